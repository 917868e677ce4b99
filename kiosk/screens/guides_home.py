"""The guides' home: the search box, the themes as tiles and the departments as a list.

Tiles and department buttons are made when the catalog changes (an import or a
pull from the platform), not per visitor.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.screens import guides_widgets  # noqa: F401  (shared guide widgets)


class GroupTile(ButtonBehavior, BoxLayout):
    """A theme or a department with how many guides it has; a tap lists them."""

    group = StringProperty()
    count = NumericProperty(0)
    kind = StringProperty("theme")   # theme | department


class GuidesHomeView(Screen):
    flow = ObjectProperty()

    def show(self, aspects: set[str]) -> None:
        if "groups" in aspects:
            browser = self.flow.browser
            self._fill(self.ids.themes, "theme", browser.themes)
            self._fill(self.ids.departments, "department", browser.departments)

    def _fill(self, box, kind: str, groups) -> None:
        if [t.group for t in reversed(box.children)] == [g.name for g in groups]:
            for tile, g in zip(reversed(box.children), groups):
                tile.count = g.count
            return
        box.clear_widgets()
        for g in groups:
            tile = GroupTile(group=g.name, count=g.count, kind=kind)
            tile.bind(on_release=self._open)
            box.add_widget(tile)

    def _open(self, tile: GroupTile) -> None:
        if tile.kind == "theme":
            self.flow.open_theme(tile.group)
        else:
            self.flow.open_department(tile.group)

    def tile(self, kind: str, name: str) -> GroupTile:
        box = self.ids.themes if kind == "theme" else self.ids.departments
        return next(t for t in box.children if t.group == name)


Builder.load_file(str(Path(__file__).with_name("guides_home.kv")))
