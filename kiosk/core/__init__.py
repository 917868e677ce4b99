"""Domain: flows as plain-Python state machines, rules, catalog search, ID numbers, privacy. Never Kivy."""
