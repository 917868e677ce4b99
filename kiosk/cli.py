"""`kiosk` command line: `kiosk [--config PATH] COMMAND ...` (DESIGN.md section 3).

Each command lives in its own module under `kiosk/commands/` with a
`register(subparsers)` function; a command appears here only once its module
exists, so `kiosk --help` never lists what does not work yet.
Exit status: 0 success, 1 the check or operation failed, 2 bad usage or bad config.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys

from kiosk import __version__, log
from kiosk.commands import _text
from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Context, add_json  # noqa: F401 (re-exported)
from kiosk.config import ConfigError
from kiosk.store import StoreError

# the order of DESIGN.md section 3; commands not listed come after, by name
ORDER = ["ui", "agent", "central", "diag", "queue", "sync", "guides", "config", "tour"]


def _command_name(argv: list[str]) -> str | None:
    """The COMMAND word of `kiosk [--config PATH] COMMAND ...`, if there is one."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config":
            i += 2
            continue
        if arg.startswith("-"):
            return None  # --help, --version, an unknown option: every command is needed
        return arg
    return None


def _command_modules(only: str | None = None):
    """The command modules; just the one named `only` when it exists, so a command does not pay
    for importing every other command's dependencies (the UI's, the platform's) at each start."""
    import kiosk.commands as pkg

    names = [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
    if only in names:
        names = [only]
    mods = [importlib.import_module(f"kiosk.commands.{name}") for name in names]
    mods = [m for m in mods if hasattr(m, "register")]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(mods, key=lambda m: (rank.get(m.__name__.rsplit(".", 1)[1], len(ORDER)), m.__name__))


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = _text.ArgumentParser(
        prog="kiosk",
        description=_t("Self-service kiosk of a 24-hour government service hall."),
        epilog=_t("The config is --config PATH, else $KIOSK_CONFIG, else config/kiosk.toml. "
                  "Exit status: 0 success, 1 failed, 2 bad usage or bad config."),
    )
    parser.add_argument("--config", metavar="PATH", help=_t("the kiosk's TOML settings"))
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}",
                        help=_t("show program's version number and exit"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title=_t("commands"))
    for module in _command_modules(_command_name(argv) if argv is not None else None):
        module.register(sub)
    return parser


EXIT_BROKEN_PIPE = -1   # inside main only: a reader gone away gets no JSON answer either; the command exits 1


class _Watched:
    """A stream that passes everything on, and notes whether anything was written (stdout) and the last
    characters written (stderr), so a `--json` command that failed without a JSON answer gets one."""

    def __init__(self, stream, keep: int = 0):
        self._stream, self._keep = stream, keep
        self.wrote, self.tail = False, ""

    def write(self, text: str) -> int:
        if text:
            self.wrote = True
            if self._keep:
                self.tail = (self.tail + text)[-self._keep:]
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    log.setup()
    argv = sys.argv[1:] if argv is None else argv
    _text.setup(argv)   # before the parser is built: its help and argparse's own text are translated too
    parser = build_parser(argv)
    stderr = sys.stderr
    if "--json" in argv:
        sys.stderr = _Watched(stderr, keep=4000)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # a usage mistake: argparse said so on stderr; with --json, in JSON too
        if exc.code and "--json" in argv:
            said = sys.stderr.tail.strip().splitlines()
            print(json.dumps({"ok": False, "error": said[-1] if said else _t("bad usage"), "exit": exc.code},
                             ensure_ascii=False))
        raise
    finally:
        sys.stderr = stderr
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    # with --json, a failure is answered in JSON on stdout too (with the same exit status), whichever
    # command it was: the message a person reads on stderr, as `{"ok": false, "error": ..., "exit": N}`,
    # unless the command already printed its own JSON answer
    watched = bool(getattr(args, "json", False))
    streams = (sys.stdout, sys.stderr)
    if watched:
        sys.stdout, sys.stderr = _Watched(sys.stdout), _Watched(sys.stderr, keep=4000)
    try:
        code = _run(args)
    except SystemExit as exc:   # a handler that ends with sys.exit(N) is answered the same way
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else EXIT_FAILED
    finally:
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = streams
    if watched and code not in (EXIT_OK, EXIT_BROKEN_PIPE) and not out.wrote:
        message = err.tail.strip() or _t("kiosk {command}: failed").format(command=args.command)
        print(json.dumps({"ok": False, "error": message, "exit": code}, ensure_ascii=False))
    return EXIT_FAILED if code == EXIT_BROKEN_PIPE else code


def _run(args) -> int:
    ctx = Context(args, extras={"build_parser": build_parser})
    try:
        if getattr(args, "needs_config", True):
            ctx.settings  # a bad config stops every command the same way, before any work
        code = int(args.handler(ctx) or 0)
        sys.stdout.flush()   # a reader gone away shows here, not as a traceback at the interpreter's exit
        return code
    except BrokenPipeError:
        # `kiosk central export | head`: the reader stopped reading; no traceback, and what was asked for
        # was not all delivered
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except ConfigError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(_t("kiosk: database: {problem}").format(problem=exc), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
