"""edge.storable_json: the one-encoding check that lets a batch item skip the walk of edge.problems.

Whatever it passes, the walk must find nothing in; and it must pass the ordinary items a kiosk sends,
or it saves nothing."""
from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from kiosk.central import edge
from kiosk.central.intake import check_item

SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),          # either side of 64 bits
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**18, 10**19]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec=None, blacklist_categories=())),   # lone surrogates included
    st.sampled_from(["\ud800", "a\udfffb", "1234567890123456789", "{[{[", "9" * 30]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=5), st.sampled_from(["\udc00", "k"])), inner, max_size=4)),
    max_leaves=40)


@settings(max_examples=600, deadline=None)
@given(VALUES, st.integers(min_value=1, max_value=8))
def test_whatever_it_passes_the_walk_finds_nothing_in_and_it_is_the_same_json(doc, max_depth):
    encoded = edge.storable_json(doc, max_depth=max_depth)
    if encoded is not None:
        assert edge.problems(doc, max_depth=max_depth) == []
        assert json.loads(encoded) == doc or doc != doc   # NaN never passes, so only equal values remain


def test_each_kind_of_problem_goes_to_the_walk():
    for doc in ({"x": float("inf")}, {"x": float("nan")}, {"x": 2**63}, {"x": -(2**63) - 1}, {"x": "\ud800"},
                {"\udfff": 1}, [[[[1]]]]):
        assert edge.storable_json(doc, max_depth=3) is None, doc
        assert edge.problems(doc, max_depth=3), doc


def test_an_ordinary_item_passes_without_the_walk_and_is_checked_the_same():
    item = {"id": "bb8c5903-fcfe-44d5-8635-56c123664766", "seq": 17, "kind": "print",
            "occurred_at": "2026-12-07T14:17:57.005+08:00",
            "data": {"service": "documents", "pages": 3, "printer": "a4", "document": "办事指南", "copies": 1,
                     "amount_fen": 0, "payment_reference": None},
            "boot_id": "8e3514ed-8d99-4bab-90f7-8a3c3aa49b6d", "uptime_s": 599179.862}
    assert json.loads(edge.storable_json(item, max_depth=edge.MAX_DEPTH - 2)) == item
    checked = check_item(item, 0)
    assert checked.reason is None
    # a long digit run in a string sends the item to the walk, which finds nothing: checked alike
    twin = {**item, "data": {**item["data"], "document": "1234567890123456789012"}}
    assert edge.storable_json(twin, max_depth=edge.MAX_DEPTH - 2) is None
    checked_twin = check_item(twin, 0)
    assert checked_twin.reason is None and checked_twin.row["seq"] == 17
    assert json.loads(checked_twin.row["data"])["document"] == "1234567890123456789012"
