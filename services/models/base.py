"""Declarative base and the column types every model shares.

Naming conventions are fixed here so that Alembic migrations get stable, predictable
constraint names on both SQLite and PostgreSQL (batch mode on SQLite needs names to drop).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import DateTime, Enum, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on both backends.

    SQLite has no time zones: values are stored naive in UTC and come back aware, so code
    never compares naive with aware datetimes depending on which database it runs on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def search_key_type(length: int) -> String:
    """A string column whose ordering is by code point.

    On PostgreSQL the "C" collation lets one plain b-tree index serve both the prefix range
    scan and ``ORDER BY`` of the patient search; on SQLite BINARY is already the default.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def str_enum(cls: type[enum.Enum]) -> Enum:
    """Enums are stored as their string values in a VARCHAR, never as a native PG enum type,
    so adding a member later is a code change, not a migration that locks the table."""
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
