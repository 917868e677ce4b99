"""The wire schema shared by the kiosk and the central platform: HTTP payloads, catalog format, request signing."""
