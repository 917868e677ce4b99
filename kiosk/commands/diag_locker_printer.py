"""`kiosk diag` checks of the locker and the printers: open-door, door-states, print-test, print-a4-test.

Registered into `kiosk diag` by kiosk/commands/diag.py through `register_into`;
this module has no `register` of its own, so it is not a top-level command.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json
from kiosk.devices import build_device
from kiosk.hardware.device import Completion, DeviceError, UnavailableDevice


def register_into(checks) -> None:
    o = checks.add_parser("open-door", help=_t("open locker door N (1-based across all boards); exit 1 unless it opened"))
    o.add_argument("door", type=_door, metavar="N", help=_t("door number, 1..N across the boards in config order"))
    add_json(o)
    o.set_defaults(handler=run_open_door)

    d = checks.add_parser("door-states", help=_t("closed / item present of every locker door"))
    add_json(d)
    d.set_defaults(handler=run_door_states)

    p = checks.add_parser("print-test", help=_t("print a test receipt: Chinese text, a QR code, a cut"))
    add_json(p)
    p.set_defaults(handler=run_print_test)

    a = checks.add_parser("print-a4-test", help=_t("print a one-page test PDF on the A4 printer and follow the job"))
    a.add_argument("--file", metavar="PDF", help=_t("print this PDF instead of the built-in test page"))
    add_json(a)
    a.set_defaults(handler=run_print_a4_test)


def _door(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(_t("{value!r} is not a door number (1, 2, 3 ...)").format(value=text))
    return int(text)


class _Unusable(Exception):
    def __init__(self, message: str, status: int, detail: str):
        super().__init__(message)
        self.status = status
        self.detail = detail


def _open(ctx, name: str):
    settings = ctx.settings
    if getattr(settings.devices, name) is None:
        raise _Unusable(_t("no [devices.{name}] section in {file}: the {name} is not configured").format(
            name=name, file=settings.source), EXIT_FAILED, "not_configured")
    try:
        device = build_device(settings, name)
    except ValueError as exc:
        raise _Unusable(f"{settings.source}: devices.{name}: {exc}", EXIT_USAGE, "bad_config") from None
    if isinstance(device, UnavailableDevice):
        raise _Unusable(f"{name}: {device.error.message}", EXIT_FAILED, device.error.detail or "no_device")
    return device


def _report_failure(ctx, doc: dict, message: str) -> None:
    if ctx.json:
        ctx.emit(doc, "")
    else:
        print(f"kiosk diag: {message}", file=sys.stderr)


# --- open-door --------------------------------------------------------------------------------

def run_open_door(ctx) -> int:
    door = ctx.args.door
    try:
        locker = _open(ctx, "locker")
    except _Unusable as exc:
        _report_failure(ctx, {"door": door, "opened": False, "error": str(exc), "detail": exc.detail}, str(exc))
        return exc.status
    try:
        state = locker.open_door(door)
    except DeviceError as exc:
        doc = {"door": door, "opened": False, "error": exc.message, "detail": exc.detail,
               "completion": exc.completion.value}
        _report_failure(ctx, doc, exc.message)
        return EXIT_USAGE if exc.completion is Completion.USER_ERROR else EXIT_FAILED
    finally:
        locker.close()
    ctx.emit({"door": door, "opened": not state.closed}, lambda d: _t("door {n} is open").format(n=d['door']))
    return EXIT_OK


# --- door-states ------------------------------------------------------------------------------

def run_door_states(ctx) -> int:
    try:
        locker = _open(ctx, "locker")
    except _Unusable as exc:
        _report_failure(ctx, {"doors": [], "error": str(exc), "detail": exc.detail}, str(exc))
        return exc.status
    try:
        states = locker.door_states()
    except DeviceError as exc:
        _report_failure(ctx, {"doors": [], "error": exc.message, "detail": exc.detail}, exc.message)
        return EXIT_FAILED
    finally:
        locker.close()

    def text(d: dict) -> str:
        lines = []
        for s in d["doors"]:
            item = {True: _t("item"), False: _t("empty"), None: "-"}[s["item_present"]]
            lines.append(_t("door {n}").format(n=f"{s['door']:>3}") + "  "
                         + (_t("closed") if s['closed'] else _t("OPEN").ljust(6)) + f"  {item}")
        return "\n".join(lines)

    ctx.emit({"doors": [s.as_dict() for s in states]}, text)
    return EXIT_OK


# --- print-test -------------------------------------------------------------------------------

def run_print_test(ctx) -> int:
    from kiosk.hardware.receipt import TEST_RECEIPT_LINES, TEST_RECEIPT_QR, TEST_RECEIPT_TITLE, diagnostic_receipt

    try:
        printer = _open(ctx, "receipt_printer")
    except _Unusable as exc:
        _report_failure(ctx, {"printed": False, "error": str(exc), "detail": exc.detail}, str(exc))
        return exc.status
    receipt = diagnostic_receipt(cut=ctx.settings.devices.receipt_printer.cut)
    try:
        after = printer.print_receipt(receipt)
    except DeviceError as exc:
        doc = {"printed": False, "error": exc.message, "detail": exc.detail, "completion": exc.completion.value}
        _report_failure(ctx, doc, exc.message)
        return EXIT_FAILED
    finally:
        printer.close()
    doc = {"printed": True, "detail": after.detail, "encoding": printer.encoding,
           "text": [TEST_RECEIPT_TITLE, *TEST_RECEIPT_LINES], "qr": TEST_RECEIPT_QR}
    ctx.emit(doc, lambda d: _t("test receipt printed") + (f" ({d['detail']})" if d["detail"] else ""))
    return EXIT_OK


# --- print-a4-test ----------------------------------------------------------------------------

def run_print_a4_test(ctx) -> int:
    try:
        printer = _open(ctx, "document_printer")
    except _Unusable as exc:
        _report_failure(ctx, {"printed": False, "error": str(exc), "detail": exc.detail}, str(exc))
        return exc.status
    try:
        with tempfile.TemporaryDirectory(prefix="kiosk-a4-") as tmp:
            pdf = Path(ctx.args.file) if ctx.args.file else Path(tmp) / "a4-test.pdf"
            if not ctx.args.file:
                from kiosk.core.technician.test_page import write_test_page

                write_test_page(pdf, ctx.settings.kiosk.hall)
            job = printer.print_pdf(pdf, title="kiosk A4 test")
    except DeviceError as exc:
        doc = {"printed": False, "error": exc.message, "detail": exc.detail, "completion": exc.completion.value}
        _report_failure(ctx, doc, exc.message)
        return EXIT_USAGE if exc.completion is Completion.INVALID_DATA else EXIT_FAILED
    finally:
        printer.close()
    ctx.emit({"printed": True, "job": job.as_dict()},
             lambda d: _t("job {id} {state}").format(id=d['job']['job_id'], state=d['job']['state_name'])
                       + (_t(", {n} page(s)").format(n=d['job']['pages']) if d["job"]["pages"] is not None else ""))
    return EXIT_OK
