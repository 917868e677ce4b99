"""The composition root of the touch UI (kiosk/app/root.py) and the parts it puts together: each
module here makes one hall area's flows over the devices and the store (pickup.py, printing.py,
guides.py, tech.py, with the device runtime in device_runtime.py). The only modules that know
every layer; nothing outside kiosk/app/ and the entry points imports them.

Importing this package loads neither Kivy nor any part: `build()` does, once Kivy is configured.
"""
from __future__ import annotations


def build(settings, **kwargs):
    """The kiosk app, ready to run (kiosk/app/root.py `build`)."""
    from kiosk.app.root import build as build_app

    return build_app(settings, **kwargs)
