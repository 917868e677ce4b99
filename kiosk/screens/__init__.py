"""Kivy screens (+ .kv): thin views bound to core flows. Never a driver, never SQL."""
