"""Which bundle a kiosk gets (its heartbeat's answer, its config poll): the newest that targets it or one of
its groups. A worker holds the bundles' targets between requests; a bundle another worker stores is seen
at the next request, including one that commits after a newer one (two operators pushing at once)."""
from __future__ import annotations

from sqlalchemy import insert

from kiosk.central import schema as T
from kiosk.central.db import CentralDB


def test_the_newest_bundle_for_the_kiosk_or_its_groups_and_every_new_one_seen(platform_db):
    with CentralDB(platform_db) as worker, CentralDB(platform_db) as other:
        worker.add_kiosk("k1", groups=["hall-a"])
        worker.add_kiosk("k2")
        assert worker.newest_config_for("k1") is None
        assert other.put_config(b'{"v":1}', 1, ["hall-a"], "op")
        assert worker.newest_config_for("k1", body=False)["version"] == 1
        assert worker.newest_config_for("k2") is None
        assert other.put_config(b'{"v":3}', 3, ["k9"], "op")      # for another kiosk: k1 keeps 1
        assert worker.heartbeat_and_config("k1", "{}")[1] == 1
        # version 2, for k2, committed after 3 by a second operator's upload at the same moment
        with other.begin() as conn:
            conn.execute(insert(T.config_bundles).values(version=2, targets='["k2"]', sha256="b" * 64,
                                                         body=b'{"v":2}', uploaded_at=0.0, uploaded_by="op2"))
        found = worker.newest_config_for("k2")
        assert (found["version"], found["sha256"], bytes(found["body"])) == (2, "b" * 64, b'{"v":2}')
        assert worker.heartbeat_and_config("k2", "{}")[1] == 2
        assert worker.newest_config_for("nobody") is None
        assert other.put_config(b'{"v":4}', 4, ["hall-a", "k2"], "op")
        assert [worker.heartbeat_and_config(k, "{}")[1] for k in ("k1", "k2")] == [4, 4]
