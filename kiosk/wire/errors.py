"""What the kiosk's domain may need to know about a failed call to the central platform, without
depending on the client that made it (kiosk/sync/client.py raises subclasses of these; kiosk/core/
catches these): the layers talk through types here, not through class names as strings."""
from __future__ import annotations


class PlatformUnavailable(Exception):
    """The platform could not answer now (no network, a timeout, a server error, credentials it
    refused): nothing was decided there; the same request may work later."""
