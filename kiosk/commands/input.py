"""`kiosk input pinyin LETTERS`: the candidates the on-screen keyboard offers for typed pinyin.

For a technician checking a kiosk's index, and for outside checks of the contract (DESIGN.md
section 3): the same engine and order as the keyboard, in the context of a plain text field, or
with --context of a form's name or address field.
Needs no config: the index is a file of the installed package (or --index PATH).
"""
from __future__ import annotations

import sys

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json, positive_int


def register(sub) -> None:
    p = sub.add_parser("input", help=_t("Chinese input of the kiosk's forms: what the keyboard offers"))
    inp = p.add_subparsers(dest="input_command", metavar="SUBCOMMAND", title=_t("subcommands"))
    p.set_defaults(handler=lambda ctx: (p.print_help(), EXIT_USAGE)[1], needs_config=False)

    py = inp.add_parser("pinyin", help=_t("pinyin candidates for LETTERS, best first, as the keyboard offers them"))
    py.add_argument("letters", metavar="LETTERS",
                    help=_t("pinyin without tones: full (zhangsan), initials (zs), partial (beij), xi'an, v for u-umlaut"))
    py.add_argument("--limit", type=positive_int, default=10, metavar="N", help=_t("at most N candidates (default 10)"))
    py.add_argument("--context", choices=("text", "name", "address"), default="text",
                    help=_t("the kind of field typed into: name puts surnames and names first, address places "
                            "(default text)"))
    py.add_argument("--index", metavar="PATH", default=None,
                    help=_t("the pinyin index to read (default: the one built into the package by `make setup`)"))
    add_json(py)
    py.set_defaults(handler=run_pinyin, needs_config=False)


def run_pinyin(ctx) -> int:
    from kiosk.core.input.pinyin import IndexMissing, PinyinIndex, normalise

    letters = ctx.args.letters
    try:
        normalise(letters)
    except ValueError as exc:
        print(f"kiosk input pinyin: LETTERS: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not letters.strip("'"):
        print(_t("kiosk input pinyin: LETTERS is empty: type some pinyin letters (a-z)"), file=sys.stderr)
        return EXIT_USAGE
    try:
        with PinyinIndex.open(ctx.args.index) as index:
            found = index.candidates(letters, limit=ctx.args.limit, context=ctx.args.context)
    except IndexMissing as exc:
        print(f"kiosk input pinyin: {exc}", file=sys.stderr)
        return EXIT_FAILED
    ctx.emit({"candidates": [c.text for c in found]}, lambda d: "\n".join(d["candidates"]))
    return EXIT_OK
