"""What the console's pages read (kiosk/central/console/queries.py), with time injected, on both engines."""
from __future__ import annotations

from sqlalchemy import insert

from kiosk.central import schema as T
from kiosk.central.console import queries
from kiosk.central.console.accounts import Person
from kiosk.central.db import CentralDB

OPS = Person("ops", "operator", None)
# 2026-12-07 10:30 at +08:00
NOW = 1_796_610_600.0


def test_availability_counts_heartbeats_per_hour_on_the_halls_clock_today_last(platform_db):
    with CentralDB(platform_db) as db:
        db.add_kiosk("k1")
        with db.begin() as conn:
            beats = [NOW - 60 * i for i in range(90)]                 # the last hour and a half, one a minute
            beats += [NOW - 86400 - 3600 * 5]                           # one, yesterday at 05:30
            conn.execute(insert(T.heartbeats), [{"kiosk_id": "k1", "received_at": t, "body": "{}"} for t in beats])
        with db.reading() as conn:
            days = queries.availability(conn, "k1", NOW, days=3)
    assert len(days) == 3 and all(len(d["hours"]) == 24 for d in days)
    today, yesterday = days[-1], days[-2]
    assert today["day"] == NOW - 10.5 * 3600                           # local midnight
    assert today["hours"][10] == 31 and today["hours"][9] == 59 and today["hours"][8] == 0
    assert today["hours"][11] is None                                   # still to come
    assert yesterday["hours"][5] == 1 and sum(yesterday["hours"]) == 1


def test_a_kiosk_is_offline_after_three_missed_heartbeats_and_problems_come_first(platform_db):
    with CentralDB(platform_db) as db:
        for k in ("a1", "b1", "c1"):
            db.add_kiosk(k)
        with db.begin() as conn:
            conn.execute(insert(T.kiosk_status), [
                {"kiosk_id": "a1", "received_at": NOW - queries.OFFLINE_AFTER_S, "body": '{"devices": []}'},
                {"kiosk_id": "b1", "received_at": NOW - queries.OFFLINE_AFTER_S - 1, "body": '{"devices": []}'}])
        with db.reading() as conn:
            rows = queries.fleet(conn, OPS, NOW)
            offline = queries.fleet(conn, OPS, NOW, problem="offline")
    assert [(r.kiosk_id, r.online) for r in rows] == [("b1", False), ("c1", False), ("a1", True)]
    assert [r.kiosk_id for r in offline] == ["b1", "c1"]


def test_a_transactions_data_is_shown_through_the_allowed_keys_only(platform_db):
    with CentralDB(platform_db) as db:
        db.add_kiosk("k1")
        with db.begin() as conn:
            conn.execute(insert(T.transactions).values(
                id="t1", kiosk_id="k1", seq=1, kind="pickup", occurred_at="2026-12-07T10:00:00+08:00",
                data='{"door": 3, "via": "code", "case_number": "C1", "holder_hash": "ab", "name": "张三"}',
                body_sha256="0" * 64, received_at=NOW))
        with db.reading() as conn:
            (shown,) = queries.recent_transactions(conn, "k1")
    assert shown["shown"] == {"door": 3, "via": "code"}
