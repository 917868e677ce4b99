"""Helpers of the signed-config tests: a kiosk with a trusted operator key, and bundles made to order.

Bundles are built with the real signing code (`kiosk.wire.bundle.sign`), with
their times chosen by the test, so expiry and clock cases need no sleeping;
the applier gets the test's clock.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kiosk import config
from kiosk.wire import bundle
from kiosk.sync.config_apply import ConfigApplier, Outcome
from tests.clocks import ManualClock
from tests.conftest import write_config

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc).timestamp()
DAY = 86400.0


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def payload(version: int, settings: dict | None = None, *, targets=("demo-hall-k01",), issued: float = T0,
            expires: float = T0 + 30 * DAY, min_software: str | None = None, **extra: Any) -> bytes:
    doc = {"version": version, "issued": iso(issued), "expires": iso(expires), "targets": list(targets),
           "settings": settings if settings is not None else {"kiosk": {"hall": f"Hall v{version}"}}, **extra}
    if min_software:
        doc["min_software"] = min_software
    return bundle.canonical(doc)


def signed(key, version: int, settings: dict | None = None, *, rotations=(), **kw) -> bytes:
    body = payload(version, settings, **kw)
    doc = json.loads(body)
    env = bundle.sign(bundle.CONFIG_TYPE, body, [key] if not isinstance(key, list) else key,
                      hints={"version": doc["version"], "targets": doc["targets"]}, rotations=rotations)
    return env.to_bytes()


def rotation(signing_keys, new_pubs, generation: int, threshold: int = 1, issued: float = T0) -> bundle.Envelope:
    body = bundle.rotation_payload(generation, new_pubs, threshold=threshold,
                                   now=datetime.fromtimestamp(issued, timezone.utc))
    return bundle.sign(bundle.ROTATE_TYPE, body, signing_keys)

@dataclass
class Kiosk:
    config: Path
    key: Any                                       # the trusted operator's private key
    clock: ManualClock = field(default_factory=lambda: ManualClock(T0))
    reports: list[Outcome] = field(default_factory=list)

    def applier(self, **kw) -> ConfigApplier:
        kw.setdefault("report", self.reports.append)
        return ConfigApplier(config.load(self.config), now=self.clock, **kw)

    def apply(self, raw: bytes, **kw) -> Outcome:
        return self.applier(**kw).apply_bytes(raw)

    def hall(self) -> str:
        return config.load(self.config).kiosk.hall

    def status(self) -> dict:
        return self.applier().status()


def make_kiosk(directory: Path, **replace: str) -> Kiosk:
    cfg = write_config(directory, **replace)
    bundle.write_keypair(directory / "keys")  # [management] trusted_keys = ["keys/operator.pub"]
    return Kiosk(cfg, bundle.load_private_key(directory / "keys" / "operator.key"))
