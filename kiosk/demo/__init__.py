"""A private demo hall for `kiosk tour` and the tests: the reference platform and a CUPS of their own."""
