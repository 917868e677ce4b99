"""Masks for ID numbers and names on screen, paper and in log lines (DESIGN.md section 7).

ID numbers show the first 3 and the last 4 characters (`110***********1234`);
names show the surname and a `*` for each other character (`张*`, `欧阳**`).

`ID_NUMBER` finds what looks like an ID number in free text: the log
redaction (`kiosk.log`) masks it, the outbox refuses it.

It imports only the standard library and sits in `kiosk/hardware/`, which
imports nothing else of `kiosk/`; it is the one part of hardware the other
layers import, so the card reader (`kiosk.hardware.idcard`), the log
redaction, the outbox and the privacy rules (`kiosk.core.privacy`) mask with
the same code. No driver comes with it.
"""
from __future__ import annotations

import re

# Resident ID (18, last may be X), old 15-digit IDs, HK/Macao/Taiwan permits (same 18-char form),
# foreign permanent resident cards: old [A-Z]{3}\d{12}, 2023 edition starts with 9 (18 chars).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15}|[A-Z]{3}\d{12})(?![0-9A-Za-z])")

# a mainland mobile number in free text (with or without +86): the log redaction masks it too
MOBILE_NUMBER = re.compile(r"(?<![0-9])(?:\+?86)?1[3-9][0-9]{9}(?![0-9])")

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 "
    "澹台 公冶 太史 申屠 端木 闻人 濮阳 南宫 独孤 百里 东郭 西门 呼延 万俟 赫连 拓跋".split()
)


def normalise_id_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def _keep_first_3_last_4(value: str) -> str:
    return "*" * len(value) if len(value) <= 7 else value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str) -> str:
    """`110***********1234`: the first 3 and last 4 characters of the normalised number
    (spaces dropped, upper case), a `*` for each hidden one."""
    return _keep_first_3_last_4(normalise_id_number(value))


def mask_card_number(value: str) -> str:
    """First 3 + `*`s + last 4 of a card's number field as read: trimmed and upper-cased, with
    every inner character (a space too) kept in place and counted, unlike `mask_id_number`."""
    return _keep_first_3_last_4(value.strip().upper())


def mask_name_initial(value: str) -> str:
    """The first character, then a `*` for each other character that is not a space:
    `张**`, `J********` for `John Smith`. It does not know compound surnames (`欧***`)."""
    v = value.strip()
    return (v[:1] + "*" * (len(v.replace(" ", "")) - 1)) if v else ""


def mask_name(value: str) -> str:
    """`张*`, `欧阳**`: the surname (two characters for known compound surnames), then a `*` for
    each other character. Latin-script names (foreign permanent residents) keep their first letter."""
    v = value.strip()
    if not v or v[0].isascii():
        return mask_name_initial(v)
    keep = 2 if v[:2] in COMPOUND_SURNAMES and len(v) > 2 else 1
    return v[:keep] + "*" * (len(v) - keep)


def mask_phone(phone: str) -> str:
    """`138****1234`: a mobile number's first 3 and last 4 digits (a leading +86 dropped)."""
    digits = phone.strip().replace(" ", "")
    return _keep_first_3_last_4(digits[-11:] if digits.startswith(("+86", "86")) else digits)
