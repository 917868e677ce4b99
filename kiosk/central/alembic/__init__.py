"""Alembic revisions of the platform's schema (kiosk/central/database.py runs them; no alembic.ini)."""
