"""Whether a kiosk's config still holds the demo hall's values, which the whole world can read in this
repository: the central secret, the hash key of ID numbers and pickup codes, the notifier's key pair, the
staff and technician PINs printed in the README, and devices on their simulators.

`config/kiosk.toml` is the demo hall and says so (`[kiosk] demo = true`); a kiosk that serves citizens
runs with `demo = false` (what scripts/install-kiosk.sh writes), and then `kiosk ui` and `kiosk agent`
refuse to start while any of these remains, and `kiosk config check` lists them, each by its key.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.config import _t   # the `kiosk` command line's language (kiosk/commands/_text.py)

# the demo hall's values (config/kiosk.toml, the README); a kiosk that has one of them is not provisioned
DEMO_SECRET_PREFIX = "demo-secret-"
DEMO_HASH_KEY_PREFIX = "demo-deployment-key"
DEMO_NOTICE_KEY = "x25519:AH4amf0AjccSlcGPlhtXlFJ7oLEUV5K5vxkccmi9U0Q"
DEMO_STAFF_PIN = "246810"
DEMO_TECHNICIAN_PIN = "135790"
DEMO_PRINT_QUEUE = "sim"          # the cups-pdf queue of scripts/cups-sim-queue.sh


@dataclass(frozen=True)
class DemoValue:
    key: str          # the config key, as the file writes it
    problem: str      # what about it is the demo's


def demo_values(settings) -> list[DemoValue]:
    """Every value of `settings` that is the demo hall's, by key."""
    from kiosk.core.staff import verify_pin

    found: list[DemoValue] = []
    if settings.central.secret.startswith(DEMO_SECRET_PREFIX):
        found.append(DemoValue("central.secret", _t("the demo hall's kiosk secret; `kiosk central add-kiosk` "
                                                    "on the platform gives this kiosk its own")))
    if settings.central.notice_key == DEMO_NOTICE_KEY:
        found.append(DemoValue("central.notice_key", _t("the demo platform's notifier key, whose private half is "
                                                        "public; `kiosk central notice-key` prints the real one")))
    if settings.privacy.hash_key.startswith(DEMO_HASH_KEY_PREFIX):
        found.append(DemoValue("privacy.hash_key", _t("the demo hash key: ID numbers and pickup codes hashed "
                                                      "with it can be tried by anyone; one per deployment")))
    for i, member in enumerate(settings.staff.members):
        if verify_pin(DEMO_STAFF_PIN, member.pin_hash):
            found.append(DemoValue(f"staff.members[{i}].pin_hash", _t(
                "staff {id} has the demo PIN printed in the README; `kiosk staff hash-pin`").format(id=member.id)))
    for i, stored in enumerate(settings.technician.pin_hashes):
        if verify_pin(DEMO_TECHNICIAN_PIN, stored):
            found.append(DemoValue(f"technician.pin_hashes[{i}]", _t("the demo technician PIN printed in the README; "
                                                                     "`kiosk staff hash-pin`")))
    devices = settings.devices
    for name in type(devices).model_fields:
        device = getattr(devices, name)
        if device is None:
            continue
        for field in ("port", "connection"):
            value = getattr(device, field, None)
            if isinstance(value, str) and value.startswith("sim://"):
                found.append(DemoValue(f"devices.{name}.{field}", _t(
                    "{value} is the built-in simulator, not a device; the device's path or URL").format(value=value)))
        if getattr(device, "printer", None) == DEMO_PRINT_QUEUE:
            found.append(DemoValue(f"devices.{name}.printer", _t("the demo CUPS queue that prints to PDF files; "
                                                                 "the hall printer's queue")))
    return found


def refusal(settings, command: str) -> str | None:
    """Why `command` will not serve with these settings (demo values outside a demo hall), or None."""
    if settings.kiosk.demo:
        return None
    found = demo_values(settings)
    if not found:
        return None
    lines = [_t("kiosk {command}: {file} holds the demo hall's values and [kiosk] demo is not true; "
                "this kiosk is not provisioned:").format(command=command, file=settings.source)]
    lines += [f"  {v.key}: {v.problem}" for v in found]
    lines.append(_t("Provision the kiosk (`kiosk provision`, docs/deploy.md) or set each by hand, then `kiosk config "
                    "check`; a demo hall says [kiosk] demo = true."))
    return "\n".join(lines)
