"""Secrets (the database password, later the SMS gateway's) in the OS keyring, never in files.

On a clinic PC the keyring is the desktop's Secret Service; tests install
:class:`MemoryKeyring` so nothing touches a real store.
"""

from __future__ import annotations

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from sqlalchemy.engine import make_url

__all__ = [
    "SERVICE",
    "MemoryKeyring",
    "db_password",
    "db_secret_name",
    "set_db_password",
    "set_sms_password",
    "sms_password",
]

SERVICE = "arm"


def db_secret_name(url: str) -> str:
    """The keyring entry for a database: one password per user, host, port and database."""
    u = make_url(url)
    return f"db:{u.username or ''}@{u.host or ''}:{u.port or 5432}/{u.database or ''}"


def db_password(url: str) -> str | None:
    """The stored password, or None when there is none or no keyring is usable here."""
    if make_url(url).get_backend_name() == "sqlite":
        return None
    try:
        return keyring.get_password(SERVICE, db_secret_name(url))
    except keyring.errors.KeyringError:
        return None


def set_db_password(url: str, password: str) -> None:
    keyring.set_password(SERVICE, db_secret_name(url), password)


def _sms_secret_name(url: str, username: str) -> str:
    return f"sms:{username}@{url}"


def sms_password(url: str, username: str) -> str | None:
    """The SMS gateway's password for this sendsms URL and user, if one is stored."""
    try:
        return keyring.get_password(SERVICE, _sms_secret_name(url, username))
    except keyring.errors.KeyringError:
        return None


def set_sms_password(url: str, username: str, password: str) -> None:
    keyring.set_password(SERVICE, _sms_secret_name(url, username), password)


class MemoryKeyring(KeyringBackend):
    """A process-local keyring for tests."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self._store[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None
