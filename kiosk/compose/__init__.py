"""`kiosk tour` steps of the pickup locker and of document printing, registered when their screens
are built (kiosk/app/root.py)."""
