"""Schema of the reference central platform, applied by `kiosk.store.migrate(conn, package=...)`."""
