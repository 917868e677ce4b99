"""The technician's area: the hidden entry and PIN (mode.py), the device panel with its checks and
the simulators' fault controls (bench.py), the system panel (system.py), the recent-log ring
(recent_log.py) and the redacted diagnostic bundle (bundle.py). Plain Python; the screens are
kiosk/screens/tech.py, the composition kiosk/app/tech.py."""
