"""The service-guides screen: one Screen of the app, holding the views of the GuideFlow.

The flow (kiosk/core/guides/flow.py) decides; this screen shows its `view` (home,
list, search, detail, print) and forwards taps. Each flow change names its
aspect (`flow.aspect`: "rows", "detail", ...); they are drawn once per frame
through a trigger, so a burst of changes costs one redraw. The views are built once per
process and reused for every visitor; the search debounce runs on the flow's
clock, looked at a few times a second while this screen is showing.

The widgets the views share (the top bar, the list of guides and its rows)
live in kiosk/screens/guides_widgets.py.
"""
from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.guides.flow import GuideFlow, View
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens import guides_widgets  # noqa: F401  (the views' shared widgets)

TICK_S = 0.1   # how often the search debounce is looked at


class GuidesScreen(VisitScreen):
    def __init__(self, flow: GuideFlow, **kwargs):
        super().__init__(**kwargs)
        from kiosk.screens.guides_detail import GuideDetailView
        from kiosk.screens.guides_home import GuidesHomeView
        from kiosk.screens.guides_list import GuideListView
        from kiosk.screens.guides_print import GuidePrintView
        from kiosk.screens.guides_search import GuideSearchView

        self.flow = flow
        self.pages = ScreenManager(transition=NoTransition())
        self.views = {
            View.HOME: GuidesHomeView(name=View.HOME.value, flow=flow),
            View.LIST: GuideListView(name=View.LIST.value, flow=flow),
            View.SEARCH: GuideSearchView(name=View.SEARCH.value, flow=flow),
            View.DETAIL: GuideDetailView(name=View.DETAIL.value, flow=flow),
            View.PRINT: GuidePrintView(name=View.PRINT.value, flow=flow),
        }
        for view in self.views.values():
            self.pages.add_widget(view)
        self.add_widget(self.pages)
        self._aspects: set[str] = set()
        self._redraw = Clock.create_trigger(self._apply, 0)
        self._ticker = None
        self.hold(flow.on_change(lambda changed: self._changed(changed.aspect)))
        self.follow_app(App.get_running_app(), lambda *_a: self._changed("lang"), "lang", "scale")

    # the screen shows -------------------------------------------------------------------------------
    def on_pre_enter(self, *_args) -> None:
        self.flow.enter()
        self._aspects.update({"groups", "view", "rows", "query"})
        self._apply()
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(lambda _dt: self.flow.tick(), TICK_S)

    def on_leave(self, *_args) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.views[View.DETAIL].release()

    @property
    def current_view(self):
        return self.views[View(self.pages.current)]

    # the flow changed -----------------------------------------------------------------------------
    def _changed(self, aspect: str) -> None:
        self._aspects.add(aspect)
        self._redraw()

    def _apply(self, *_args) -> None:
        aspects, self._aspects = self._aspects, set()
        if not aspects:
            return
        for view in self.views.values():
            view.show(aspects)
        if "view" in aspects and self.pages.current != self.flow.view.value:
            self.pages.current = self.flow.view.value


def build_screen(flow: GuideFlow) -> GuidesScreen:
    return GuidesScreen(flow, name="guides")
