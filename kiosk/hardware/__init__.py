"""Device drivers: wire protocols, transports, simulators. Imports nothing else of kiosk/."""
