"""`kiosk completion bash`: tab completion of every command, subcommand and option, for a technician's shell.

The script is made from the command line's own parser, so it never lags behind it:

    kiosk completion bash | sudo tee /usr/share/bash-completion/completions/kiosk
"""
from __future__ import annotations

import argparse
import shlex

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("completion", help=_t("print a shell completion script (bash)"))
    p.add_argument("shell", choices=["bash"], help=_t("the shell"))
    p.set_defaults(handler=run, needs_config=False)


def words_by_path(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """'' -> the commands and global options of `parser` (the whole command line's); 'sync' -> its
    subcommands and options; and so on."""
    table: dict[str, list[str]] = {}

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        words: list[str] = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    words.append(name)
                    walk(child, [*path, name])
            else:
                words += [o for o in action.option_strings if o.startswith("--")]
        table[" ".join(path)] = sorted(set(words))

    walk(parser, [])
    return table


def bash_script(parser: argparse.ArgumentParser) -> str:
    cases = "\n".join(f"        {shlex.quote(path)}) words={shlex.quote(' '.join(words))} ;;"
                      for path, words in sorted(words_by_path(parser).items()))
    return f"""# bash completion for kiosk (made by `kiosk completion bash`)
_kiosk() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} path="" i w words=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${{COMP_WORDS[i]}}
        case $w in
            --config) ((i++)) ;;
            -*) ;;
            *) path=${{path:+$path }}$w ;;
        esac
    done
    case $path in
{cases}
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F _kiosk kiosk
"""


def run(ctx) -> int:
    # the whole command line's parser, every command registered (kiosk/cli.py hands its builder over:
    # a command module never imports the command line)
    print(bash_script(ctx.extras["build_parser"]()), end="")
    return EXIT_OK
