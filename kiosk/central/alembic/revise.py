"""Write a new Alembic revision from the difference between kiosk/central/schema.py and a database.

    python -m kiosk.central.alembic.revise "message" [--db URL]

Without --db, a temporary SQLite database is brought to the newest revision
and compared; give a PostgreSQL URL to see its types too.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def main() -> None:
    from alembic import command

    from kiosk.central import database

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("message")
    p.add_argument("--db", help="a database at the newest revision (default: a temporary SQLite one)")
    p.add_argument("--rev-id", help="the new revision's id (default: the next number)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = database.open_engine(args.db or Path(tmp) / "central.db")
        database.migrate(engine)
        script = database._alembic_script()
        rev_id = args.rev_id or f"{int(script.get_current_head() or '0') + 1:04d}"
        with engine.begin() as conn:
            cfg = database._alembic_config(conn)
            command.revision(cfg, message=args.message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    main()
