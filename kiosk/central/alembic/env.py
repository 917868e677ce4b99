"""Alembic's environment for the platform: the connection comes from kiosk/central/database.py.

A new revision, from the project root, against a database at the newest revision:

    .venv/bin/python -m kiosk.central.alembic.revise "what it changes"

compares the database with kiosk/central/schema.py and writes the operations
into a new file under versions/ (review it: renames and data moves are not
guessed). SQLite changes tables in batch mode (copy and swap), which is the
only way it can alter a column.
"""
from alembic import context

from kiosk.central.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
