"""Checking what a citizen types into a form, and filling a form from the ID card.

`check(field, value)` answers None or one calm sentence in the citizen's
language (gettext, msgids in English) saying what to change, so the screen
can show it beside the field at once rather than the window refusing the
paper later. The checks are the ones a window clerk applies: an ID number
whose check digit and birth date add up (GB 11643, via python-stdnum), a
mainland mobile or a landline with its area code, real dates, a Chinese name.

Values are strings, except a checkbox's, which is a bool. `normalise()` gives
the form in which a value is printed and put in the QR code (ID numbers with
a capital X, phones without spaces). Nothing here logs a value.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from kiosk.i18n import N_, _
from kiosk.wire.forms import SEX_CHOICES, FormField, FormTemplate

Value = str | bool

REQUIRED = N_("Please fill this in.")
TICK_REQUIRED = N_("Please tick this box to go on.")
TOO_LONG = N_("Please keep this to {n} characters or fewer.")
NOT_A_CHOICE = N_("Please choose one of the options.")
ID_FORMAT = N_("An ID number has 18 characters: 17 digits, then a digit or X.")
ID_BIRTH = N_("The birth date inside this ID number is not right. Please check the number.")
ID_CHECK_DIGIT = N_("This ID number does not add up. Please check each digit against the card.")
PHONE = N_("Please enter an 11-digit mobile number starting with 1, or a landline with its area code, "
           "such as 010-12345678.")
DATE_FORMAT = N_("Please write the date as year-month-day, such as 1990-05-17.")
DATE_UNREAL = N_("This date does not exist. Please check the month and the day.")
BIRTH_IN_FUTURE = N_("A birth date cannot be later than today.")
NAME = N_("Please write the name in Chinese characters, 2 to 20 of them; use · between the parts of a name "
          "that has them.")
ONE_LINE = N_("Please write this on one line.")

_HANZI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U0003134f"
_NAME = re.compile(f"[{_HANZI}]+(?:·[{_HANZI}]+)*")
# what keyboards and handwriting offer for the middle dot of a name
_DOTS = str.maketrans({"•": "·", "・": "·", "･": "·", "‧": "·", "∙": "·", "．": "·"})
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?[2-9]\d{6,7}(?:-\d{1,6})?")  # area code, local number, maybe an extension
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ID = re.compile(r"\d{17}[\dX]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise(field: FormField, value: Value | None) -> Value | None:
    """The value as it is printed and encoded: stripped; ID numbers with a capital X; phones without
    spaces; the look-alikes of the name's middle dot made the one GB 11643 uses (U+00B7)."""
    if field.kind == "checkbox" or not isinstance(value, str):
        return value
    value = value.strip()
    if field.kind == "id_number":
        return value.replace(" ", "").upper()
    if field.kind == "phone":
        return re.sub(r"[\s\u3000]", "", value).replace("－", "-")
    if field.kind == "name":
        return value.translate(_DOTS).replace(" ", "")
    return value


def check(field: FormField, value: Value | None, today: dt.date | None = None) -> str | None:
    """None when `value` may go on the form; otherwise what to change, in the current language.

    `today` is injected for tests; a birth date (a date field the card's birth fills) may not be
    later than it, nor may the birth date inside an ID number."""
    today = today or dt.date.today()
    value = normalise(field, value)
    if field.kind == "checkbox":
        if value is not None and not isinstance(value, bool):
            return _(REQUIRED)
        return _(TICK_REQUIRED) if field.required and not value else None
    if value is None or value == "":
        return _(REQUIRED) if field.required else None
    if not isinstance(value, str):
        return _(REQUIRED)
    if _CONTROL.search(value):
        return _(ONE_LINE)
    if field.max_length is not None and len(value) > field.max_length:
        return _(TOO_LONG).format(n=field.max_length)
    if field.kind == "choice":
        return None if value in (field.choices or ()) else _(NOT_A_CHOICE)
    if field.kind == "id_number":
        return _id_number_problem(value, today)
    if field.kind == "phone":
        return None if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value) else _(PHONE)
    if field.kind == "date":
        return _date_problem(value, today, birth=field.card_field == "birth")
    if field.kind == "name":
        return None if 2 <= len(value) <= 20 and _NAME.fullmatch(value) else _(NAME)
    return None


def _id_number_problem(number: str, today: dt.date) -> str | None:
    """Format, then the birth date, then the check digit: the first wrong thing is the one to fix.
    The region code is not looked up: numbers of Hong Kong, Macao and Taiwan residents (81/82/83)
    and of foreigners (9xxxxx) have none in the tables, and the window checks it against the card."""
    if not _ID.fullmatch(number):
        return _(ID_FORMAT)
    try:
        born = ric.get_birth_date(number)
    except StdnumError:
        return _(ID_BIRTH)
    if born > today:
        return _(ID_BIRTH)
    return None if ric.calc_check_digit(number) == number[17] else _(ID_CHECK_DIGIT)


def _date_problem(value: str, today: dt.date, birth: bool) -> str | None:
    m = _DATE.fullmatch(value)
    if not m:
        return _(DATE_FORMAT)
    try:
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return _(DATE_UNREAL)
    return _(BIRTH_IN_FUTURE) if birth and day > today else None


def check_all(template: FormTemplate, values: Mapping[str, Value | None],
              today: dt.date | None = None) -> dict[str, str]:
    """{key: problem} for every field whose value may not go on the form (empty when all may)."""
    problems = {}
    for f in template.fields:
        problem = check(f, values.get(f.key), today)
        if problem:
            problems[f.key] = problem
    return problems


# -- from the ID card ----------------------------------------------------------------------------------

_SEX = dict(zip(("male", "female"), SEX_CHOICES))
_NATIONS_WITHOUT_ZU = ("其他", "外国血统中国籍人士")  # GB 3304 names that take no 族


def _card_value(field: FormField, card: Any) -> str | None:
    """What the card says for the field, written as a Chinese form writes it."""
    kind = getattr(getattr(card, "card_type", None), "value", getattr(card, "card_type", None))
    if field.card_field == "name":
        # the old foreign permanent resident card carries the English name; its Chinese one, if any, fits
        return getattr(card, "name_zh", "") if kind == "foreign_permanent" else getattr(card, "name", "")
    if field.card_field == "sex":
        return _SEX.get(getattr(card, "sex", ""))
    if field.card_field == "nation":
        nation = getattr(card, "nation", None)
        if not nation:
            return None
        written = nation if nation.endswith("族") or nation in _NATIONS_WITHOUT_ZU else nation + "族"
        if field.kind == "choice":  # whichever way the choices write it
            return next((c for c in (written, nation) if c in (field.choices or ())), None)
        return written
    if field.card_field == "birth":
        birth = getattr(card, "birth", None)
        return birth.isoformat() if isinstance(birth, dt.date) else None
    if field.card_field == "address":
        return getattr(card, "address", "")
    if field.card_field == "id_number":
        return getattr(card, "id_number", "")
    return None


def fill_from_card(template: FormTemplate, card: Any, today: dt.date | None = None) -> dict[str, str]:
    """{key: value} for each field the card fills (kiosk/hardware/idcard/codec.py `Card`, or anything
    with its attributes). A value the field's checks refuse is left out, so the citizen types it
    rather than the kiosk printing something the window will send back."""
    out = {}
    for f in template.fields:
        if f.card_field is None:
            continue
        value = normalise(f, _card_value(f, card))
        if value and check(f, value, today) is None:
            out[f.key] = value
    return out
