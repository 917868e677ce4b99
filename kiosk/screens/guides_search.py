"""Search as you type: the query box, popular words, the results, and the on-screen keyboard.

The kiosk has no input method and no physical keyboard: letters (for pinyin
and initials), digits (item codes), delete and clear are keys on the screen.
Each key goes to the flow, which searches once the keyboard is quiet.
Chinese words come from the popular words under the box.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.i18n import N_
from kiosk.screens import guides_widgets  # noqa: F401  (shared guide widgets)
from kiosk.screens.keys import KeyGrid
from kiosk.screens.widgets import RoundButton

KEY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
FOUND = N_("Guides found")


class WordChip(RoundButton):
    word = StringProperty()


class OnScreenKeyboard(KeyGrid):
    """Digits and letters, then delete ("back") and clear; `on_key(key)` for each tap."""

    rows = ListProperty([list(row) for row in KEY_ROWS[:-1]] + [list(KEY_ROWS[-1]) + ["back", "clear"]])
    widths = DictProperty({"back": 1.6, "clear": 1.6})
    edit_keys = ListProperty(["back", "clear"])


class GuideSearchView(Screen):
    flow = ObjectProperty()
    status = StringProperty()   # msgid of the line above the results
    # the keyboard folds away to give the results the screen (in elder mode it leaves room for one): the
    # line above the results has the key for it; a tap on the search box brings the keyboard back
    keyboard_shown = BooleanProperty(True)

    def on_pre_enter(self, *_a) -> None:
        self.keyboard_shown = True

    def key(self, key: str) -> None:
        if key == "back":
            self.flow.backspace()
        elif key == "clear":
            self.flow.clear()
        else:
            self.flow.press(key)

    def show(self, aspects: set[str]) -> None:
        browser = self.flow.browser
        if "popular" in aspects or "groups" in aspects:
            box = self.ids.words
            if [c.word for c in reversed(box.children)] != browser.popular:
                box.clear_widgets()
                for word in browser.popular:
                    chip = WordChip(word=word, text=word)
                    chip.bind(on_release=lambda c: self.flow.search_word(c.word))
                    box.add_widget(chip)
        if aspects & {"query", "rows", "lang"}:
            self.ids.query.text = browser.query
            if "rows" in aspects and browser.list_kind == "search":
                self.ids.guide_list.rows = list(browser.rows)
            if not browser.query:
                self.status = N_("Type pinyin or its initials: sb or shebao for 社保")
            elif browser.searching:
                self.status = N_("Searching…")
            elif browser.rows:
                self.status = FOUND
            else:
                self.status = N_("No guide found. Try fewer letters, or choose a theme.")

    def chip(self, word: str) -> WordChip:
        return next(c for c in self.ids.words.children if c.word == word)


Builder.load_file(str(Path(__file__).with_name("guides_search.kv")))
