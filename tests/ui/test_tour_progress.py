"""`kiosk tour` on a terminal names each step as it ends (kiosk/commands/tour.py `_show_step`): the runner
tells it each result with how many of how many steps have run, counting only the flows asked for."""
from types import SimpleNamespace


class NoWindowDriver:
    """A driver whose app has no screens: every step fails, and the runner goes on and reports it."""

    app = SimpleNamespace(services=())

    def reset(self):
        pass

    def pump(self):
        pass

    def screenshot(self, png):
        raise RuntimeError("no window in this test")


def test_the_runner_reports_each_step_with_its_count_of_the_flows_asked_for(tmp_path):
    from kiosk.tour import runner   # Kivy with it: inside the test (tests/ui/conftest.py)

    heard = []
    results = runner.run(NoWindowDriver(), tmp_path, {"home", "idle"},
                         on_step=lambda r, n, total: heard.append((r.flow, r.step, r.ok, n, total)))
    expected = [(flow, step.name) for flow in ("home", "idle") for step in runner.FLOWS[flow]]
    total = len(expected)
    assert [(f, s) for f, s, *_ in heard] == expected
    assert [(n, t) for *_, n, t in heard] == [(i, total) for i in range(1, total + 1)]
    assert len(results) == total and not any(ok for _, _, ok, *_ in heard)
