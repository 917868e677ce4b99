"""The composition root of the touch UI (kiosk/app/root.py) and the parts it puts together: what
every area is built from and what a citizen service is declared as (services.py); each other
module makes one hall area's flows over the devices and the store: the citizen services (pickup.py,
guides.py, documents.py: each its flow and its screen), the payment and rating every visit may pass
through (visit.py) and the technician mode (tech.py), with the device runtime in device_runtime.py.
The only modules that know every layer; nothing outside kiosk/app/ and the entry points imports them.

Importing this package loads neither Kivy nor any part: `build()` does, once Kivy is configured.
"""
from __future__ import annotations


def build(settings, **kwargs):
    """The kiosk app, ready to run (kiosk/app/root.py `build`)."""
    from kiosk.app.root import build as build_app

    return build_app(settings, **kwargs)
