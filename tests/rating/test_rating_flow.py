"""RatingFlow (好差评): five levels, none chosen for the citizen, always skippable, reasons for the two lowest,
one `rating` transaction linked to the service's own transaction and carrying no personal data."""
from __future__ import annotations

import pytest

from kiosk import store
from kiosk.core.rating import LEVELS, RateState, RatingFlow
from kiosk.i18n import catalog
from kiosk.sync import outbox as outbox_module
from kiosk.sync.outbox import Outbox

REASONS = ["It took too long", "The printout was poor", "Something else"]


@pytest.fixture
def kiosk_store(tmp_path):
    return store.Store(tmp_path / "kiosk", "k-rate")


@pytest.fixture
def outbox(kiosk_store):
    conn = kiosk_store.connect()
    yield Outbox(conn)
    conn.close()


@pytest.fixture
def flow(kiosk_store):
    return RatingFlow(kiosk_store, outbox_module, REASONS)


def ratings(outbox):
    return [e.data for e in outbox.items("pending", 100) if e.kind == "rating"]


def test_the_five_levels_are_the_national_ones_in_chinese():
    zh = catalog("zh_CN")
    assert [zh.gettext(lv.title) for lv in LEVELS] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [lv.value for lv in LEVELS] == [5, 4, 3, 2, 1]


def test_nothing_is_chosen_for_the_citizen_and_nothing_is_recorded_without_a_choice(flow, outbox):
    flow.start("documents", "tx-1")
    assert flow.level is None and flow.chosen_reasons == []
    assert not flow.submit()
    flow.skip()
    assert flow.state is RateState.SKIPPED and ratings(outbox) == []


def test_a_rating_is_linked_to_the_service_transaction(flow, outbox):
    flow.start("documents", "tx-42")
    flow.choose(5)
    assert not flow.asks_reasons
    assert flow.submit() and flow.state is RateState.DONE
    assert ratings(outbox) == [{"service": "documents", "service_transaction_id": "tx-42", "level": 5,
                                "level_key": "very_satisfied", "reasons": []}]


@pytest.mark.parametrize("level", [1, 2])
def test_the_two_lowest_levels_offer_reasons_and_record_the_chosen_ones(flow, outbox, level):
    flow.start("pickup", "tx-7")
    flow.choose(level)
    assert flow.asks_reasons
    flow.toggle_reason("Something else")
    flow.toggle_reason("It took too long")
    flow.toggle_reason("not offered")         # only the configured reasons can be chosen
    flow.submit()
    assert ratings(outbox)[0]["reasons"] == ["It took too long", "Something else"]


def test_changing_to_a_higher_level_drops_the_reasons(flow, outbox):
    flow.start("documents", "tx-1")
    flow.choose(1)
    flow.toggle_reason("The printout was poor")
    flow.choose(3)
    assert not flow.asks_reasons and flow.chosen_reasons == []
    flow.submit()
    assert ratings(outbox)[0]["reasons"] == []


def test_a_level_outside_one_to_five_is_refused(flow):
    flow.start("documents", "tx-1")
    with pytest.raises(ValueError):
        flow.choose(6)


def test_a_new_service_starts_from_no_choice(flow, outbox):
    flow.start("documents", "tx-1")
    flow.choose(2)
    flow.toggle_reason("It took too long")
    flow.start("documents", "tx-2")
    assert flow.level is None and flow.chosen_reasons == [] and flow.state is RateState.ASKING
