"""What every SMS gateway shares: the message, the one error a send raises, the gateway protocol, and
`make_gateway`, which builds the gateway that the platform's `[notify]` settings table names.

The platform's notifier (the durable queue with its retries) hands a `Sms` to `Gateway.send` and gets
the gateway's receipt back, or a `SendError` whose `retryable` says whether the same message may be
tried again later. A gateway never retries by itself and never queues: one call, one attempt.

`gateway = "file" | "webhook" | "tencent" | "aliyun"` picks a built-in one; `gateway = "package.module:Class"`
loads a province's own (a plug-in): a class with `name`, `send(sms)` and a classmethod
`from_settings(spec, **context)`, as the built-in ones have. docs/sms.md lists each gateway's keys.

Privacy (DESIGN.md section 7): a phone number reaches a log line only masked (`mask_phone`), the
pickup code and the message text never; `SendError.reason` carries neither (`scrub`).
"""
from __future__ import annotations

import importlib
import logging
import re
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from kiosk.hardware.masking import MOBILE_NUMBER, mask_phone

log = logging.getLogger("kiosk.central.sms")

TEMPLATES = ("pickup_ready", "pickup_reminder", "pickup_overdue", "handin_received")
MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
MESSAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", re.ASCII)  # travels in headers and vendor fields
# the parameters a vendor template is registered with, in the order the vendor's positional templates
# ({1}, {2}, ...) take them; `[notify.template_params]` overrides them per template
DEFAULT_TEMPLATE_PARAMS: dict[str, tuple[str, ...]] = {
    "pickup_ready": ("code", "hall", "place", "deadline"),
    "pickup_reminder": ("code", "hall", "deadline"),
    "pickup_overdue": ("case", "hall", "place"),
    "handin_received": ("case", "hall"),
}
SECRET_PARAMS = ("code",)  # parameter values that are as good as a key: never in a reason or a log line
BUILT_IN = {
    "file": "kiosk.central.sms.file:FileGateway",
    "webhook": "kiosk.central.sms.webhook:WebhookGateway",
    "tencent": "kiosk.central.sms.tencent:TencentGateway",
    "aliyun": "kiosk.central.sms.aliyun:AliyunGateway",
}
MIN_SECRET = 16
REASON_MAX = 300


@dataclass(frozen=True)
class Sms:
    message_id: str          # our id of the message (idempotency key; a gateway that supports it passes it on)
    phone: str               # an 11-digit mainland mobile number, e.g. "13812341234"
    template: str            # our template key: one of TEMPLATES
    params: dict[str, str]   # the template's parameters (code, hall, place, deadline, link, case ...), all strings
    text: str                # the same message rendered in full Chinese (file and webhook gateways send it)

    def __repr__(self) -> str:  # a message in a traceback or a log line shows no number, code or text
        return f"Sms(message_id={self.message_id!r}, phone={mask_phone(str(self.phone))!r}, template={self.template!r})"


class SendError(Exception):
    """One send failed. `reason` is short and safe to log (no phone number, no code): snake_case of ours
    (`timeout`, `http_503`, `invalid_phone`) or the vendor's code and message (`tencent:LimitExceeded...`).
    `retryable` is True when the same message may succeed later unchanged (throttling, a vendor's internal
    error, a timeout), False when it never will without a person changing something (a wrong number, an
    unapproved template or signature, a wrong key)."""

    def __init__(self, reason: str, retryable: bool):
        super().__init__(reason[:REASON_MAX], retryable)  # both in args: the error pickles whole
        self.reason = reason[:REASON_MAX]
        self.retryable = retryable

    def __str__(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return f"SendError({self.reason!r}, retryable={self.retryable})"


@runtime_checkable
class Gateway(Protocol):
    name: str

    def send(self, sms: Sms) -> str:
        """The gateway's receipt (its message id) once the gateway took the message; raises SendError."""
        ...


class GatewaySettingsError(ValueError):
    """The `[notify]` table cannot make a gateway; the message names the key and what to put there."""




def scrub(text: str, sms: Sms | None = None) -> str:
    """`text` (a vendor's message) without anything that looks like a mobile number, and without the
    message's own number and secret parameter values, cut to a log line's length."""
    text = MOBILE_NUMBER.sub(lambda m: mask_phone(m.group()), text)
    if sms is not None:
        text = text.replace(sms.phone, mask_phone(sms.phone))
        for key in SECRET_PARAMS:
            value = sms.params.get(key)
            if value and len(value) >= 3:
                text = text.replace(value, "***")
    return " ".join(text.split())[:REASON_MAX]


def check_message(sms: Sms) -> None:
    """Refuses (not retryable) what no gateway can send: a number that is not a mainland mobile, an
    unknown template key, a parameter that is not a string, a message id that cannot travel in a header."""
    if not isinstance(sms.message_id, str) or not MESSAGE_ID.fullmatch(sms.message_id):
        raise SendError("invalid_message_id", retryable=False)
    if not isinstance(sms.phone, str) or not MAINLAND_MOBILE.fullmatch(sms.phone):
        raise SendError("invalid_phone", retryable=False)
    if sms.template not in TEMPLATES:
        raise SendError(f"unknown_template:{sms.template}"[:80], retryable=False)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in sms.params.items()):
        raise SendError("params_not_strings", retryable=False)


def logged_send(sms: Sms, by: str, attempt: Callable[[], str]) -> str:
    """`attempt()`, the one try of a gateway, with one log line either way: the number masked, never
    the parameters or the text."""
    check_message(sms)
    try:
        receipt = attempt()
    except SendError as exc:
        log.warning("sms %s (%s) to %s not sent by %s: %s (%s)", sms.message_id, sms.template, mask_phone(sms.phone),
                    by, exc.reason, "may be retried" if exc.retryable else "final")
        raise
    log.info("sms %s (%s) to %s sent by %s: receipt %s", sms.message_id, sms.template, mask_phone(sms.phone), by,
             receipt)
    return receipt


# ---- reading the [notify] table ----

def setting(spec: Mapping[str, Any], key: str, default: Any = ..., *, kind: type | tuple[type, ...] = str) -> Any:
    if key not in spec:
        if default is ...:
            raise GatewaySettingsError(f"[notify] {key} is missing: the {spec.get('gateway')!r} gateway needs it "
                                       "(docs/sms.md lists every gateway's keys)")
        return default
    value = spec[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise GatewaySettingsError(f"[notify] {key} must be a {names}, not {type(value).__name__}")
    if isinstance(value, str) and not value.strip():
        raise GatewaySettingsError(f"[notify] {key} is empty")
    return value


def name_setting(spec: Mapping[str, Any], key: str, default: str) -> str:
    """A vendor's identifier (a region): letters, digits, '-' and '_' only, as it travels in a header."""
    value = setting(spec, key, default)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise GatewaySettingsError(f"[notify] {key} = {value!r} is not a region name (e.g. {default!r})")
    return value


def timeout_setting(spec: Mapping[str, Any], default: float = 10.0) -> float:
    value = float(setting(spec, "timeout_s", default, kind=(int, float)))
    if not 0 < value <= 120:
        raise GatewaySettingsError(f"[notify] timeout_s = {value}: give seconds between 0 and 120 (default {default})")
    return value


def secret_setting(spec: Mapping[str, Any], key: str, *, min_length: int = 1) -> str:
    """`key` itself, or the first line of the file `key_file` (kept out of the settings file, 0600).
    The value never appears in a message: only the key's name does."""
    file_key = f"{key}_file"
    if (key in spec) == (file_key in spec):
        raise GatewaySettingsError(f"[notify] give exactly one of {key} and {file_key} (a file keeps the secret "
                                   "out of the settings file)")
    if key in spec:
        value = setting(spec, key)
    else:
        path = Path(setting(spec, file_key))
        try:
            value = path.read_text(encoding="utf-8").strip()
            mode = path.stat().st_mode
        except (OSError, UnicodeDecodeError) as exc:
            raise GatewaySettingsError(f"[notify] {file_key} = {str(path)!r} cannot be read "
                                       f"({type(exc).__name__}): check the path and that the platform's user may "
                                       "read it") from None
        if stat.S_IMODE(mode) & 0o077:
            log.warning("[notify] %s %s can be read by other users (mode %o): chmod 600 it", file_key, path,
                        stat.S_IMODE(mode))
        if not value:
            raise GatewaySettingsError(f"[notify] {file_key} = {str(path)!r} is empty")
    if len(value) < min_length:
        raise GatewaySettingsError(f"[notify] {key} is shorter than {min_length} characters: use a random secret "
                                   "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    return value


def template_settings(spec: Mapping[str, Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Our template key -> (the vendor's template id, the parameter names in the vendor template's order),
    from `[notify.template_ids]` and `[notify.template_params]`. Every template key needs an id."""
    ids = setting(spec, "template_ids", kind=Mapping)
    params = setting(spec, "template_params", {}, kind=Mapping)
    for table, keys in (("template_ids", ids), ("template_params", params)):
        unknown = sorted(set(keys) - set(TEMPLATES))
        if unknown:
            raise GatewaySettingsError(f"[notify.{table}] has {', '.join(unknown)}: the templates are "
                                       f"{', '.join(TEMPLATES)}")
    missing = [t for t in TEMPLATES if t not in ids]
    if missing:
        raise GatewaySettingsError(f"[notify.template_ids] lacks {', '.join(missing)}: give the id of the template "
                                   "the SMS vendor approved for each")
    out = {}
    for key in TEMPLATES:
        template_id = ids[key]
        if isinstance(template_id, int) and not isinstance(template_id, bool):
            template_id = str(template_id)
        if not isinstance(template_id, str) or not template_id.strip():
            raise GatewaySettingsError(f"[notify.template_ids] {key} must be the vendor's template id as a string")
        names = params.get(key, DEFAULT_TEMPLATE_PARAMS[key])
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
            raise GatewaySettingsError(f"[notify.template_params] {key} must be a list of parameter names, "
                                       f"e.g. {list(DEFAULT_TEMPLATE_PARAMS[key])}")
        out[key] = (template_id.strip(), tuple(names))
    return out


def template_values(sms: Sms, names: tuple[str, ...]) -> list[str]:
    """The message's parameters in the order the vendor template takes them."""
    missing = [n for n in names if n not in sms.params]
    if missing:
        raise SendError(f"template_param_missing:{','.join(missing)}"[:120], retryable=False)
    return [sms.params[n] for n in names]


def make_gateway(spec: Mapping[str, Any], *, clock: Callable[[], float] = time.time, session: Any = None) -> Gateway:
    """The gateway `spec["gateway"]` names, built from the rest of `spec` (the `[notify]` table).
    `clock` (wall-clock seconds) stamps the signatures and the file's lines; `session` is the
    `requests.Session` the HTTP gateways use (one of their own when None). Raises GatewaySettingsError."""
    name = setting(spec, "gateway")
    target = BUILT_IN.get(name, name)
    if ":" not in target:
        raise GatewaySettingsError(f"[notify] gateway = {name!r}: give one of {', '.join(BUILT_IN)}, or a plug-in "
                                   "as 'package.module:Class'")
    module_name, _, class_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise GatewaySettingsError(f"[notify] gateway = {name!r} cannot be loaded ({type(exc).__name__}: {exc})") \
            from None
    gateway = cls.from_settings(spec, clock=clock, session=session)
    if not isinstance(gateway, Gateway):
        raise GatewaySettingsError(f"[notify] gateway = {name!r} made {type(gateway).__name__}, which has no "
                                   "name and send(sms)")
    return gateway

