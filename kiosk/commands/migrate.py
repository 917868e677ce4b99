"""`kiosk migrate`: bring this kiosk's database to the schema of the installed version, and nothing else.

The package's postinst runs it after an upgrade, before the UI and the agent start again: the migrations
(kiosk/migrations/NNNN_*.sql) apply in one SQLite transaction, so one that fails leaves the database as
the previous version left it, and the postinst puts that version back (docs/deploy.md, upgrading).

Under DPKG_ROOT (the package installed into another root directory, as dpkg --root and image builds do),
a database outside that root is left alone.

A kiosk that has no database yet (installed, not provisioned, never started) has nothing to migrate: the
database is made at the first start, stamped with the kiosk's id, which only `kiosk provision` gives it.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_OK, add_json
from kiosk.store import DB_NAME, connect, explain, migrate


def register(sub) -> None:
    p = sub.add_parser("migrate", help=_t("apply this version's migrations to the kiosk's database (after an upgrade)"),
                       description=_t("Apply the migrations of the installed version to the kiosk's database in "
                                      "the data dir, in one transaction; a database not made yet is left alone."))
    add_json(p)
    p.set_defaults(handler=run)


def run(ctx) -> int:
    path = ctx.settings.data_path / DB_NAME
    root = os.environ.get("DPKG_ROOT")
    if root and not path.resolve().is_relative_to(Path(root).resolve()):
        # a package installed into another root (an image being built): this machine's own kiosk database,
        # which the config's absolute data_dir names, is not that root's to migrate
        ctx.emit({"database": str(path), "exists": path.exists(), "applied": [], "outside_root": root},
                 _t("{path}: outside the root being installed ({root}); left alone").format(path=path, root=root))
        return EXIT_OK
    if not path.exists():
        ctx.emit({"database": str(path), "exists": False, "applied": []},
                 _t("{path}: no database yet; the kiosk makes it at its first start (nothing to migrate)")
                 .format(path=path))
        return EXIT_OK
    conn = connect(path)
    try:
        applied = migrate(conn)
    except sqlite3.Error as exc:
        # the transaction was rolled back: the database is as the previous version left it
        raise explain(exc, path) from None
    finally:
        conn.close()
    ctx.emit({"database": str(path), "exists": True, "applied": applied},
             (_t("{path}: applied {names}").format(path=path, names=", ".join(applied)) if applied
              else _t("{path}: already at this version's schema").format(path=path)))
    return EXIT_OK
