"""Alembic migrations of ARM's schema.

``HEAD`` is the newest revision, kept here so that start-up can check the schema without
importing Alembic; tests/services/test_migrations.py fails if it falls behind the scripts.
A new migration updates it in the same commit.
"""

HEAD = "0008"
