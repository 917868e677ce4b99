"""`_()` for .kv rules, re-evaluated when the language changes.

In a rule, `text: _("Welcome", app.lang)` names `app.lang` only so that Kivy
binds the rule to it: switching the language re-renders every visible string.
"""
from kiosk import i18n


def tr(message: str, *rerender_on) -> str:
    return i18n._(message) if message else ""
