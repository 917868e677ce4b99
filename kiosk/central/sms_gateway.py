"""The SMS gateways as the notifier sees them: `Sms`, `SendError`, `Gateway`, `make_gateway`, `mask_phone`.

The gateways themselves are plug-ins in kiosk/central/sms/ (`file`, `webhook`, `tencent`, `aliyun`), named by
`gateway` in the platform's `[notify]` table, which is passed to them whole. A hall may also name a gateway
of its own as `gateway = "package.module:factory"`: the factory gets the same table and returns an object
with `name` and `send(sms) -> str` that raises `SendError`.

What the notifier needs of a gateway: `send` returns the gateway's own id for the message, or raises
`SendError(reason, retryable=...)`. A message that failed in a way that may pass (a timeout, a 5xx) is tried
again with the same `message_id`; a gateway must send a message id it has already sent only once (the
`file` gateway does not append a message id already in its file; a `webhook` receiver should drop
repeats), because a notifier killed between the send and its record sends again after its lease.

Until kiosk/central/sms/ is installed (branch smsgw), this module stands in for its interface, so the
notifier, its plug-in gateways and its tests work; the built-in gateway names then fail with a message
saying so. Once it is, the stand-in below is dead code and goes.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

try:
    from kiosk.central.sms.base import Gateway, SendError, Sms, mask_phone  # noqa: F401
    from kiosk.central.sms.base import make_gateway as _builtin_gateway
except ModuleNotFoundError as exc:  # kiosk/central/sms/ not installed yet: its interface, without gateways
    if exc.name not in ("kiosk.central.sms", "kiosk.central.sms.base"):
        raise

    @dataclass(frozen=True)
    class Sms:  # type: ignore[no-redef]
        message_id: str
        phone: str
        template: str
        params: dict[str, str]
        text: str

    class SendError(Exception):  # type: ignore[no-redef]
        def __init__(self, reason: str, retryable: bool = True):
            super().__init__(reason)
            self.reason, self.retryable = reason, retryable

    class Gateway(Protocol):  # type: ignore[no-redef]
        name: str

        def send(self, sms: Sms) -> str: ...

    def mask_phone(phone: str) -> str:  # type: ignore[no-redef]
        return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "*" * len(phone)

    def _builtin_gateway(spec: Mapping[str, Any]) -> Gateway:
        raise GatewayError(f"[notify] gateway = {spec.get('gateway')!r}: the built-in SMS gateways "
                           "(kiosk/central/sms/) are not installed in this copy of the platform; name a plug-in "
                           "as \"package.module:factory\"")


class GatewayError(Exception):
    """The `[notify]` table names a gateway that cannot be made; the message names the key and the cause."""


def make_gateway(spec: Mapping[str, Any]) -> Gateway:
    """The gateway the `[notify]` table names: a built-in one, or a plug-in `package.module:factory`."""
    name = str(spec.get("gateway", ""))
    if ":" not in name:
        return _builtin_gateway(spec)
    module_name, _, attr = name.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise GatewayError(f"[notify] gateway = {name!r}: cannot load the plug-in ({exc})") from None
    return factory(spec)
