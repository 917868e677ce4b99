"""`kiosk staff hash-pin`: the hash of a staff PIN, to paste into `[staff] members` of the config.

The PIN is read from standard input when it is not a terminal (one line), else
asked for twice without echo. Only the hash is printed; the PIN is never
written anywhere.
"""
from __future__ import annotations

import getpass
import sys

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json


def register(sub) -> None:
    p = sub.add_parser("staff", help=_t("hall staff who deposit and recall locker items"))
    staff_sub = p.add_subparsers(dest="staff_command", metavar="SUBCOMMAND")
    h = staff_sub.add_parser("hash-pin", help=_t("print the hash of a staff PIN (read from stdin or a prompt)"))
    add_json(h)
    h.set_defaults(handler=hash_pin, needs_config=False)
    p.set_defaults(handler=lambda ctx: (p.print_help(), EXIT_USAGE)[1], needs_config=False)


def _read_pin() -> str | None:
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    first = getpass.getpass(_t("staff PIN (4-12 digits): "))
    second = getpass.getpass(_t("the same PIN again: "))
    return first if first == second else None


def hash_pin(ctx) -> int:
    from kiosk.core.staff import PinError
    from kiosk.core.staff import hash_pin as make_hash

    try:
        pin = _read_pin()
    except (EOFError, KeyboardInterrupt):
        print(_t("kiosk staff hash-pin: no PIN given"), file=sys.stderr)
        return EXIT_USAGE
    if pin is None:
        print(_t("kiosk staff hash-pin: the two PINs differ; nothing printed"), file=sys.stderr)
        return EXIT_FAILED
    try:
        hashed = make_hash(pin)
    except PinError as exc:
        print(f"kiosk staff hash-pin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    ctx.emit({"pin_hash": hashed}, hashed)
    return EXIT_OK
