"""Widgets every screen shares: the big button, the header bar with the language
switch and the elder-mode toggle, cards and text styles.

Sizes follow `app.scale`, so elder mode enlarges text and touch targets
everywhere at once; no touch target is ever under `theme.TOUCH_MIN_DP`.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk import i18n
from kiosk.screens import theme


class RoundButton(ButtonBehavior, Label):
    """A rounded button drawn in the kiosk's colours."""

    bg_color = ColorProperty(theme.ACCENT)
    pressed_color = ColorProperty(theme.ACCENT_PRESSED)
    fg_color = ColorProperty(theme.ON_HEADER)
    outline = BooleanProperty(False)


class BigButton(RoundButton):
    """A full-width button; `base_height` in dp before the elder scale."""

    base_height = NumericProperty(theme.BUTTON_DP)


class ToggleChip(RoundButton):
    """A two-state button of the header (a language, elder mode); `active` is filled."""

    active = BooleanProperty(False)


class HeaderBar(BoxLayout):
    """On top of every screen: home, the language switch and the elder-mode toggle."""

    at_home = BooleanProperty(True)
    languages = i18n.LANGUAGES
    native_names = i18n.NATIVE_NAMES


class Card(BoxLayout):
    """A white panel on the page background."""

    bg_color = ColorProperty(theme.SURFACE)


class Headline(Label):
    base_size = NumericProperty(theme.TITLE_SP)


class Body(Label):
    base_size = NumericProperty(theme.BODY_SP)
    color_name = StringProperty("TEXT")


Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
