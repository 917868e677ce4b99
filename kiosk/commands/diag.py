"""`kiosk diag`: status and self-test of every configured device, and one-off device checks.

`kiosk diag [--json]`, `kiosk diag read-card`, `kiosk diag test-sale AMOUNT_FEN`,
`kiosk diag scan` live here; the locker and printer checks (`open-door`,
`door-states`, `print-test`) come from `kiosk.commands.diag_locker_printer`,
which registers them with `register_into(diag_subparsers)` when it exists.
Personal data is masked before it is printed (DESIGN.md section 7).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json
from kiosk.core.privacy import mask_id_number, mask_name
from kiosk.devices import BUILDERS, DEVICE_NAMES, build_device
from kiosk.hardware.device import Completion, DeviceError, State, Status, UnavailableDevice

LOCKER_PRINTER_CHECKS = "kiosk.commands.diag_locker_printer"
BUNDLE = "kiosk.commands.diag_bundle"  # `kiosk diag bundle` (issue 7)


def register(sub) -> None:
    p = sub.add_parser("diag", help=_t("status and self-test of every configured device; device checks"),
                       description=_t("Without a CHECK: status and self-test of every configured device "
                                      "(exit 0 only when all are online)."))
    add_json(p)
    p.set_defaults(handler=run_all)
    checks = p.add_subparsers(dest="diag_command", metavar="CHECK", title=_t("checks"))

    c = checks.add_parser("read-card", help=_t("read one ID card (name and number masked)"))
    c.add_argument("--timeout", type=_seconds, default=15.0, metavar="S", help=_t("how long to wait for a card (15)"))
    c.add_argument("--fingerprint", action="store_true", help=_t("also read the fingerprint block (its size is shown)"))
    add_json(c)
    c.set_defaults(handler=run_read_card)

    s = checks.add_parser("test-sale", help=_t("one sale on the payment terminal; exit 0 only when approved"))
    s.add_argument("amount_fen", type=_amount, metavar="AMOUNT_FEN", help=_t("amount in fen (100 = 1.00 yuan)"))
    add_json(s)
    s.set_defaults(handler=run_test_sale)

    q = checks.add_parser("scan", help=_t("wait for one code on the QR/barcode scanner (payment codes masked)"))
    q.add_argument("--timeout", type=_seconds, default=30.0, metavar="S", help=_t("how long to wait (30)"))
    add_json(q)
    q.set_defaults(handler=run_scan)

    if importlib.util.find_spec(LOCKER_PRINTER_CHECKS) is not None:
        importlib.import_module(LOCKER_PRINTER_CHECKS).register_into(checks)
    if importlib.util.find_spec(BUNDLE) is not None:
        importlib.import_module(BUNDLE).register_into(checks)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _arg_error(_t("{value!r} is not a number of seconds").format(value=text)) from None
    if not 0 < value <= 3600:
        raise _arg_error(_t("{value} s is outside 0..3600").format(value=f"{value:g}"))
    return value


def _amount(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 99_999_999:
        raise _arg_error(_t("{value!r} is not an amount in fen between 1 and 99999999").format(value=text))
    return int(text)


def _arg_error(message: str):
    import argparse

    return argparse.ArgumentTypeError(message)


class _Unusable(Exception):
    """A device that cannot be used for a check; the message says why and what to do."""

    def __init__(self, message: str, status: int = EXIT_FAILED, detail: str = "not_configured"):
        super().__init__(message)
        self.status = status
        self.detail = detail


def _open(ctx, name: str):
    """Build one configured device, or raise `_Unusable` naming the config key to set."""
    settings = ctx.settings
    if getattr(settings.devices, name) is None:
        raise _Unusable(_t("no [devices.{name}] section in {file}: the {name} is not configured").format(
            name=name, file=settings.source), detail="not_configured")
    if name not in BUILDERS:
        raise _Unusable(_t("this build has no driver for [devices.{name}]").format(name=name), detail="no_driver")
    try:
        device = build_device(settings, name)
    except ValueError as exc:  # e.g. an unknown timeout name
        raise _Unusable(f"{settings.source}: devices.{name}: {exc}", EXIT_USAGE, "bad_config") from None
    if isinstance(device, UnavailableDevice):
        raise _Unusable(f"{name}: {device.error.message}", detail=device.error.detail or "no_device")
    return device


def _fail(ctx, key: str, exc: Exception, detail: str, extra: dict | None = None) -> None:
    doc = {key: None, "error": str(exc), "detail": detail, **(extra or {})}
    if ctx.json:
        ctx.emit(doc, "")
    else:
        print(f"kiosk diag: {exc}", file=sys.stderr)


# --- kiosk diag -------------------------------------------------------------------------------

def _check(settings, name: str) -> dict:
    section = getattr(settings.devices, name)
    row = {"name": name, "driver": section.driver}
    if name not in BUILDERS:
        return {**row, "state": State.NO_DEVICE.value, "detail": "no_driver",
                "self_test": {"ok": False, "message": f"this build has no driver for [devices.{name}]"}}
    try:
        device = build_device(settings, name)
    except ValueError as exc:
        return {**row, "state": State.NO_DEVICE.value, "detail": "bad_config",
                "self_test": {"ok": False, "message": f"devices.{name}: {exc}"}}
    try:
        try:
            status = device.status()
        except DeviceError as exc:
            status = Status(State.OFFLINE, exc.detail or "no_answer")
        try:
            test = device.self_test().as_dict()
        except DeviceError as exc:
            test = {"ok": False, "message": exc.message}
    except Exception as exc:  # a driver bug shows as a hardware error, not as a crash of the check
        status, test = Status(State.HARDWARE_ERROR, type(exc).__name__.lower()), {"ok": False, "message": str(exc)}
    finally:
        device.close()
    return {**row, **status.as_dict(), "self_test": test}


def run_all(ctx) -> int:
    settings = ctx.settings
    rows = [_check(settings, name) for name in DEVICE_NAMES if getattr(settings.devices, name) is not None]
    doc = {"devices": rows}

    def text(d: dict) -> str:
        if not d["devices"]:
            return _t("no devices configured")
        lines = []
        for r in d["devices"]:
            state = r["state"] + (f" ({r['detail']})" if r["detail"] else "")
            test = (_t("self-test ok: {message}") if r["self_test"]["ok"] else
                    _t("self-test FAILED: {message}")).format(message=r['self_test']['message'])
            lines.append(f"{r['name']:<17} {r['driver']:<8} {state:<30} {test}")
        return "\n".join(lines)

    ctx.emit(doc, text)
    return EXIT_OK if rows and all(r["state"] == State.ONLINE.value for r in rows) else EXIT_FAILED


# --- kiosk diag read-card ---------------------------------------------------------------------

def run_read_card(ctx) -> int:
    try:
        reader = _open(ctx, "idcard")
    except _Unusable as exc:
        _fail(ctx, "card", exc, exc.detail)
        return exc.status
    try:
        if not ctx.json:
            print(_t("place an ID card on the reader (waiting up to {n} s)...").format(n=f"{ctx.args.timeout:g}"),
                  file=sys.stderr)
        card = reader.read_card(ctx.args.timeout, fingerprint=ctx.args.fingerprint)
    except DeviceError as exc:
        _fail(ctx, "card", exc, exc.detail, {"completion": exc.completion.value})
        return EXIT_FAILED
    finally:
        reader.close()
    shown = card.masked(mask_name=mask_name, mask_number=mask_id_number)
    del card  # card data lives no longer than needed (DESIGN.md section 7)

    def text(d: dict) -> str:
        c = d["card"]
        lines = [f"{k:<16} {v}" for k, v in c.items() if v not in (None, [], "")]
        return "\n".join(lines)

    ctx.emit({"card": shown}, text)
    return EXIT_OK


# --- kiosk diag test-sale ---------------------------------------------------------------------

def run_test_sale(ctx) -> int:
    try:
        terminal = _open(ctx, "payment")
    except _Unusable as exc:
        _fail(ctx, "result", exc, exc.detail)
        return exc.status
    try:
        pending = terminal.prepare_sale(ctx.args.amount_fen)
        # a test sale is a real sale on real hardware: say what to reconcile before it is sent
        print(_t("kiosk diag: sale {reference} of {amount} fen sent to the terminal; "
                 "if this command is interrupted, check that reference in the terminal's journal").format(
                     reference=pending.reference, amount=pending.amount_fen), file=sys.stderr)
        try:
            outcome = terminal.send(pending)
            doc = outcome.as_dict()
        except KeyboardInterrupt:
            doc = {"result": "unknown", "amount_fen": pending.amount_fen, "reference": pending.reference,
                   "kind": "sale", "detail": "interrupted", "sent": True}
    except DeviceError as exc:
        _fail(ctx, "result", exc, exc.detail, {"completion": exc.completion.value})
        return EXIT_FAILED if exc.completion is not Completion.USER_ERROR else EXIT_USAGE
    finally:
        terminal.close()

    def text(d: dict) -> str:
        return _t("{result} ({detail}): {amount} fen, reference {reference}").format(
            result=d['result'], detail=d['detail'], amount=d['amount_fen'], reference=d['reference'])

    ctx.emit(doc, text)
    return EXIT_OK if doc["result"] == "approved" else EXIT_FAILED


# --- kiosk diag scan --------------------------------------------------------------------------

def run_scan(ctx) -> int:
    try:
        scanner = _open(ctx, "scanner")
    except _Unusable as exc:
        _fail(ctx, "code", exc, exc.detail)
        return exc.status
    try:
        if not ctx.json:
            print(_t("scan a code (waiting up to {n} s)...").format(n=f"{ctx.args.timeout:g}"), file=sys.stderr)
        code = scanner.read_code(ctx.args.timeout)
    except DeviceError as exc:
        _fail(ctx, "code", exc, exc.detail, {"completion": exc.completion.value})
        return EXIT_FAILED
    finally:
        scanner.close()
    if code is None:
        _fail(ctx, "code", Exception(_t("nothing scanned within {n} s").format(n=f"{ctx.args.timeout:g}")), "no_scan")
        return EXIT_FAILED
    ctx.emit({"code": code.as_dict()}, lambda d: f"{d['code']['kind']}: {d['code']['code']}")
    return EXIT_OK
