"""The step line 「第 n 步 / 共 m 步」 under a flow's title and the wait line 「最长需要 45 秒。」 of a device's
wait, in the real window (kiosk/screens/steps.py; the counting is the flows', tests/test_steps.py)."""
from __future__ import annotations

from tests.ui.conftest import deposit_item, locker_sim, pickup_service
from tests.ui.test_documents_preview import FORM_URL, TITLE, docs, two_pages  # noqa: F401  (a fixture)
from tests.ui.test_pickup import _open, _type


def idcard():
    from kiosk.sim.registry import simulator

    return simulator("idcard")


NBSP = "\u00a0"


def shown(root, kind: str) -> list[str]:
    """The texts of the `kind` lines ("StepLine", "WaitLine") shown under `root` (a panel, or the
    screen), NBSP read as spaces."""
    from kiosk.screens import steps

    cls = getattr(steps, kind)
    return [w.text.replace(NBSP, " ") for w in root.walk(restrict=True)
            if isinstance(w, cls) and w.text and w.opacity > 0 and w.height > 0]


def test_a_pickup_with_the_holders_card_counts_three_steps_and_says_how_long_the_card_may_take(pickup_ui, shot):
    from kiosk.sim.idcard import demo_resident

    ui = pickup_ui
    idcard().remove_card()
    door, code = deposit_item(ui.app, "UI-STEPS-1", holder=demo_resident().id_number)
    screen = _open(ui)
    flow = pickup_service(ui.app).pickup
    panel = screen.panels.panels
    ui.pump(3)
    assert shown(panel["code"], "StepLine") == ["第 1 步 / 共 3 步"]
    assert shown(panel["code"], "WaitLine") == []            # typing is no wait
    _type(ui, screen, code)
    ui.wait_for(lambda: flow.step.value == "id_card", 10, "the card prompt")
    ui.pump(3)
    assert shown(panel["id_card"], "StepLine") == ["第 2 步 / 共 3 步"]
    seconds = round(ui.app.settings.pickup.id_card_timeout_s)
    assert shown(panel["id_card"], "WaitLine") == [f"最长需要 {seconds} 秒。"]
    shot("id-card")
    idcard().insert_card(demo_resident())
    ui.wait_for(lambda: screen.panels.current == "door_open", 20, "the door open")
    ui.pump(3)
    assert shown(panel["door_open"], "StepLine") == ["第 3 步 / 共 3 步"]
    shot("door-open")
    locker_sim().close_door(door)
    ui.wait_for(lambda: screen.panels.current == "done", 20, "done")
    ui.pump(3)
    assert shown(panel["done"], "StepLine") == []
    idcard().remove_card()


def test_the_documents_flow_shows_its_steps_and_the_card_wait(ui, two_pages, shot):  # noqa: F811
    flow = two_pages
    app = ui.app
    app.session.touch()
    app.show("documents")
    ui.pump(3)
    screen = app.screen("documents")
    idcard().remove_card()
    # released documents: the ID card is step 1 of 5 (choose, preview, pay: they cost 0.50 a page, print)
    assert flow.released()
    ui.wait_for(lambda: flow.state.value == "read_card", 10, "the card prompt")
    ui.pump(3)
    assert shown(screen, "StepLine") == ["第 1 步 / 共 5 步"]
    assert shown(screen, "WaitLine") == [f"最长需要 {round(flow.card_timeout_s)} 秒。"]
    shot("read-card")
    # a blank form: no card and free, so choose, preview, print
    assert flow.choose_form_by_url(FORM_URL, TITLE)
    ui.wait_for(lambda: flow.state.value == "preview" and screen.ids.page.texture, 30, "the preview")
    ui.pump(3)
    assert shown(screen, "StepLine") == ["第 2 步 / 共 3 步"]
    assert shown(screen, "WaitLine") == []
    shot("preview")

