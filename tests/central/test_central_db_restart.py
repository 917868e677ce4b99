"""The platform on PostgreSQL when its database restarts (an upgrade, a failover): the connections it pooled
are cut; at most the first request after is answered 503 (storage unavailable, which a kiosk's relay
retries), and it serves again without being restarted itself."""
from __future__ import annotations

import requests

from tests.central.conftest import Central, Server, free_port, item, platform_key_env, provision

BEAT = {"kiosk_id": "k1", "sent_at": "2026-12-07T03:00:00+08:00", "software_version": "t", "queue_depth": 0}
PATH = "/api/v1/kiosks/k1/heartbeat"


def test_the_platform_serves_again_after_its_database_restarts(pg_cluster, tmp_path):
    with platform_key_env(tmp_path / "central.key"):
        db = pg_cluster.fresh()
        c = Central(Server(db, free_port(), tmp_path / "central.log"))
        c.secrets[("kiosk", "k1")] = provision(db, "add-kiosk", "k1")["secret"]
        c.server.start()
        try:
            seq = iter(range(1, 100))

            def batch():
                return c.call("POST", "/api/v1/transactions", {"kiosk_id": "k1", "items": [item(seq=next(seq))]},
                              kiosk="k1")

            assert [c.call("POST", PATH, BEAT, kiosk="k1").status_code for _ in range(3)] == [200] * 3
            assert [batch().status_code for _ in range(3)] == [200] * 3
            pg_cluster.restart()
            # readiness first, on a pooled connection the restart cut: the database answers, so ready
            assert requests.get(c.url + "/readyz", timeout=10).status_code == 200
            for send in (lambda: c.call("POST", PATH, BEAT, kiosk="k1"), batch):   # both pools of a worker
                answers = [send() for _ in range(4)]
                statuses = [a.status_code for a in answers]
                assert statuses[0] in (200, 503) and statuses[1:] == [200] * 3, statuses
                if statuses[0] == 503:
                    assert answers[0].json()["error"] == "storage_unavailable"
            assert requests.get(c.url + "/readyz", timeout=10).status_code == 200
        finally:
            c.server.stop()
