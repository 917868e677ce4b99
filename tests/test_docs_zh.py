"""The Chinese documents for technicians and operators (docs/zh_CN/) stay in step with the English ones
they translate: each names the English text it follows by its SHA-256, so a change to the English file
fails here until the Chinese one is brought up to date (and its digest with it); and each keeps the
English file's structure: its headings level by level, and every command of its code blocks as typed."""
from __future__ import annotations

import hashlib
import re

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"
TRANSLATED = sorted(p.name for p in (DOCS / "zh_CN").glob("*.md") if p.name != "README.md")
FOLLOWS = re.compile(r"<!-- follows docs/(?P<name>[\w.-]+\.md) sha256:(?P<digest>[0-9a-f]{12}) -->")


def headings(text: str) -> list[int]:
    """The level of each heading outside code blocks."""
    levels, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"(#{1,6}) ", line)):
            levels.append(len(m.group(1)))
    return levels


def commands(text: str) -> list[str]:
    """The command lines of the code blocks (comments aside, which are translated)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced and re.match(r"\s*(sudo |kiosk |scripts/|make |apt |systemctl |journalctl )", line):
            out.append(line.split("  #")[0].rstrip())
    return out


def test_every_technician_and_operator_document_is_translated():
    assert {"deploy.md", "hardware.md", "operators.md", "console.md"} <= set(TRANSLATED)
    index = (DOCS / "zh_CN" / "README.md").read_text(encoding="utf-8")
    assert all(f"({name})" in index for name in TRANSLATED)


@pytest.mark.parametrize("name", TRANSLATED)
def test_a_chinese_document_follows_its_english_text_as_it_is_now(name):
    zh = (DOCS / "zh_CN" / name).read_text(encoding="utf-8")
    follows = FOLLOWS.search(zh.splitlines()[0])
    assert follows and follows["name"] == name, f"docs/zh_CN/{name}: its first line names the English text it follows"
    now = hashlib.sha256((DOCS / name).read_bytes()).hexdigest()[:12]
    assert follows["digest"] == now, (
        f"docs/{name} changed since docs/zh_CN/{name} was written: translate the change, then put "
        f"sha256:{now} in its first line")


@pytest.mark.parametrize("name", TRANSLATED)
def test_a_chinese_document_keeps_the_headings_and_the_commands_of_the_english(name):
    en = (DOCS / name).read_text(encoding="utf-8")
    zh = (DOCS / "zh_CN" / name).read_text(encoding="utf-8")
    assert headings(zh) == headings(en)
    missing = [c for c in commands(en) if c not in commands(zh)]
    assert not missing, missing
