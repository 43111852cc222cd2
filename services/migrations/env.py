"""Alembic environment: the engine comes from ``services.db`` (never from alembic.ini).

``render_as_batch`` lets the same migration alter tables on SQLite, which has no ALTER for
most changes.
"""

from alembic import context

import services.models  # noqa: F401  (registers every table)
from services.models.base import Base

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
