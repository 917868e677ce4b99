"""The platform's schema as SQL files, from before its Alembic revisions (kiosk/central/alembic/): frozen.

A SQLite database that a platform of that time made (its `schema_migrations`
table) gets the files it lacks and is then marked at Alembic's revision 0001,
the same schema (kiosk/central/database.py). New changes to the schema are
Alembic revisions, never new files here.
"""
