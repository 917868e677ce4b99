"""Widgets the service-guide views share: the top bar with its back button, the list of guides
(a RecycleView, so only the rows in sight exist however long the list is) and its rows.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview import RecycleView

from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)


class GuideTopBar(BoxLayout):
    """Back, and the title of the view."""

    title = StringProperty()
    back_action = ObjectProperty(None, allownone=True)


class GuideRow(ButtonBehavior, BoxLayout):
    """One guide in a list: its name and its department; a tap opens it."""

    code = StringProperty()
    name = StringProperty()
    department = StringProperty()
    owner = ObjectProperty(None, allownone=True, force_dispatch=True)   # the GuideList (a weak proxy: may be gone)


class GuideList(RecycleView):
    """The guides of a theme, a department or a search. Rows are recycled: a list of 5,000 guides
    builds as many row widgets as fit on the screen."""

    rows = ListProperty()   # [Row]
    opener = ObjectProperty(None, allownone=True)

    def on_rows(self, _rv, rows) -> None:
        # a weak reference: Kivy keeps reused rows, with their last data, in a cache of its own (the
        # screen is given back after the visit, kiosk/screens/lifetime.py)
        self.data = [{"code": r.code, "name": r.name, "department": r.department, "owner": self.proxy_ref} for r in rows]
        self.scroll_y = 1

    def open(self, code: str) -> None:
        if self.opener is not None:
            self.opener(code)

    def row_widgets(self) -> list[GuideRow]:
        """The row widgets that exist now (for tests: bounded by the viewport, not by the rows)."""
        return [w for w in self.layout_manager.children if isinstance(w, GuideRow)]


Builder.load_file(str(Path(__file__).with_name("guides_widgets.kv")))
