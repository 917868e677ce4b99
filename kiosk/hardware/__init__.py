"""Device drivers: wire protocols, transports. Imports nothing else of kiosk/ (the simulators are kiosk/sim/)."""
