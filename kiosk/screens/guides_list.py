"""The guides of one theme or one department, in the catalog's order, as a recycled list."""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from kiosk.screens import guides_widgets  # noqa: F401  (shared guide widgets)


class GuideListView(Screen):
    flow = ObjectProperty()

    def show(self, aspects: set[str]) -> None:
        browser = self.flow.browser
        if "rows" in aspects and browser.list_kind in ("theme", "department"):
            self.ids.title_bar.title = browser.list_title
            self.ids.guide_list.rows = list(browser.rows)


Builder.load_file(str(Path(__file__).with_name("guides_list.kv")))
