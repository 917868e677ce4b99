"""Outbox, relay, central client, catalog/config pull, signed config. Never Kivy, never a device."""
