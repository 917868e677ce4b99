"""The home screen: the hall's name, the date and time, and one tile per service.

Tiles come from the service list of `kiosk/app/root.py`; a service whose device is
down shows as a disabled tile with the reason. With no service built yet the
screen says where to get help instead of offering a tile that leads nowhere.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)


class ServiceTile(ButtonBehavior, BoxLayout):
    """One service on the home screen; disabled, with `reason`, when it cannot run now."""

    key = StringProperty()
    title = StringProperty()  # msgid
    reason = StringProperty()  # msgid; empty when available


class HomeScreen(Screen):
    hall = StringProperty()
    date_text = StringProperty()
    time_text = StringProperty()
    tiles = ListProperty()  # [(key, title msgid, reason msgid or "")]

    def on_pre_enter(self, *_args) -> None:
        self.ids.services_area.scroll_y = 1  # every visitor starts at the first service

    def show_time(self, now: dt.datetime) -> None:
        self.date_text = i18n.format_date(now.date())
        self.time_text = i18n.format_clock(now)

    def on_tiles(self, _screen, tiles) -> None:
        grid = self.ids.tiles
        shown = {t.key: t for t in grid.children}
        if [t.key for t in reversed(grid.children)] != [k for k, _t, _r in tiles]:
            grid.clear_widgets()
            shown = {}
            for key, title, _reason in tiles:
                tile = ServiceTile(key=key, title=title)
                grid.add_widget(tile)
                shown[key] = tile
        for key, _title, reason in tiles:
            shown[key].reason = reason
            shown[key].disabled = bool(reason)


Builder.load_file(str(Path(__file__).with_name("home.kv")))
