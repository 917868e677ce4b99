"""The guides' home: the search box, the themes as tiles and the departments as a list.

Tiles and department buttons are made when the catalog changes (an import or a
pull from the platform), not per visitor.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
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
    need = NumericProperty(0)        # the height its name and count need (two lines where the name wraps)


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
        even = Clock.create_trigger(lambda _dt: self._even_rows(box), 0)
        for g in groups:
            tile = GroupTile(group=g.name, count=g.count, kind=kind)
            tile.bind(on_release=self._open)
            tile.fbind("need", lambda *_a: even())
            box.add_widget(tile)
        even()

    @staticmethod
    def _even_rows(box) -> None:
        """Every tile of a grid as tall as the tallest needs: a department's name on two lines makes its
        row taller, and the tiles beside it and below keep one even grid."""
        tallest = max((t.need for t in box.children), default=0)
        for tile in box.children:
            tile.height = tallest

    def _open(self, tile: GroupTile) -> None:
        if tile.kind == "theme":
            self.flow.open_theme(tile.group)
        else:
            self.flow.open_department(tile.group)

    def tile(self, kind: str, name: str) -> GroupTile:
        box = self.ids.themes if kind == "theme" else self.ids.departments
        return next(t for t in box.children if t.group == name)


Builder.load_file(str(Path(__file__).with_name("guides_home.kv")))
