"""Per-site DICOM configuration: which PACS there are, and who this workstation is to them.

The values come from the site config (``[dicom]`` in ``/etc/arm/arm.toml``, written by IT) as
a plain mapping, so this module needs no TOML and no settings framework::

    [dicom]
    ae_title = "ARM_WS214"        # this workstation's AE title, registered at the PACS
    storage_port = 11113          # our C-STORE SCP for C-MOVE (the PACS connects back here)
    cache_limit_mb = 20000

    [[dicom.pacs]]
    name = "ЕРИС"                 # what the user sees
    ae_title = "ERIS_QR"
    host = "pacs.gp12.local"
    port = 104
    dimse_timeout = 30
    [dicom.pacs.tls]              # optional: DICOM over TLS (PS3.15 B.1)
    ca = "/etc/arm/pacs-ca.pem"
    cert = "/etc/arm/ws214.pem"   # client certificate, if the PACS asks for one
    key = "/etc/arm/ws214.key"

:func:`load_config` validates every field and raises :class:`~dicom.errors.ConfigError`
naming the key, so a typo in the config is a clear message at start, not a timeout later.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dicom.errors import ConfigError

__all__ = ["DicomConfig", "PacsConfig", "Timeouts", "TlsConfig", "load_config", "valid_ae_title"]

DEFAULT_AE_TITLE = "ARM"
DEFAULT_STORAGE_PORT = 11113


@dataclass(frozen=True)
class Timeouts:
    """Seconds; each guards a different wait, so a dead PACS is noticed at the right step."""

    connect: float = 5.0
    """TCP connect: a PACS that is off answers with a refusal at once, a missing host hangs."""
    acse: float = 10.0
    """Association request → accept/reject."""
    dimse: float = 30.0
    """Between DIMSE messages (a C-FIND response, the next C-STORE of a retrieve)."""
    network: float = 60.0
    """Any silence on an established connection."""


@dataclass(frozen=True)
class TlsConfig:
    """DICOM over TLS: the CA that signed the PACS's certificate and our optional client pair."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    check_hostname: bool = True

    def client_context(self) -> ssl.SSLContext:
        """A client SSL context; built on demand because it reads the files."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=_opt(self.ca_file))
        ctx.check_hostname = self.check_hostname
        if self.cert_file is not None:
            ctx.load_cert_chain(str(self.cert_file), _opt(self.key_file))
        return ctx


def _opt(path: Path | None) -> str | None:
    return None if path is None else str(path)


@dataclass(frozen=True)
class PacsConfig:
    """One PACS (query/retrieve SCP)."""

    name: str
    ae_title: str
    host: str
    port: int
    tls: TlsConfig | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)


@dataclass(frozen=True)
class DicomConfig:
    """The workstation's DICOM identity and its PACS list (may be empty: cache and CDs only)."""

    ae_title: str = DEFAULT_AE_TITLE
    storage_port: int = DEFAULT_STORAGE_PORT
    storage_bind: str = ""
    """Address the C-MOVE storage SCP listens on; empty = all interfaces (the PACS must reach
    us); tests use 127.0.0.1."""
    pacs: tuple[PacsConfig, ...] = ()
    cache_limit_mb: int = 20_000

    def find_pacs(self, name: str) -> PacsConfig:
        for p in self.pacs:
            if p.name == name:
                return p
        raise ConfigError("pacs", f"нет PACS с именем «{name}»")


def valid_ae_title(title: str) -> bool:
    """PS3.5 AE VR: 1–16 characters of printable ASCII without backslash, not all spaces."""
    return (
        0 < len(title) <= 16
        and title.strip() != ""
        and all(32 <= ord(c) < 127 and c != "\\" for c in title)
    )


def load_config(data: Mapping[str, object] | None) -> DicomConfig:
    """Build the config from the ``[dicom]`` mapping (None or empty → no PACS, defaults).

    Raises:
        ConfigError: A value is missing or breaks its rule; the key is named.
    """
    data = data or {}
    ae = _str(data, "ae_title", DEFAULT_AE_TITLE)
    _check_ae("ae_title", ae)
    port = _int(data, "storage_port", DEFAULT_STORAGE_PORT, lo=1, hi=65535)
    limit = _int(data, "cache_limit_mb", 20_000, lo=1, hi=10**9)
    bind = _str(data, "storage_bind", "")
    raw = data.get("pacs", [])
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ConfigError("pacs", "ожидается список таблиц [[dicom.pacs]]")
    pacs: list[PacsConfig] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ConfigError(f"pacs[{i}]", "ожидается таблица")
        pacs.append(_pacs(item, f"pacs[{i}]"))
    names = [p.name for p in pacs]
    if len(set(names)) != len(names):
        raise ConfigError("pacs", "имена PACS повторяются")
    return DicomConfig(ae, port, bind, tuple(pacs), limit)


def _pacs(item: Mapping[str, object], where: str) -> PacsConfig:
    ae = _str(item, "ae_title", None, where)
    _check_ae(f"{where}.ae_title", ae)
    host = _str(item, "host", None, where)
    if not host.strip():
        raise ConfigError(f"{where}.host", "пустой адрес")
    port = _int(item, "port", 104, lo=1, hi=65535, where=where)
    name = _str(item, "name", f"{ae}@{host}", where)
    d = Timeouts()
    timeouts = Timeouts(
        connect=_float(item, "connect_timeout", d.connect, where),
        acse=_float(item, "acse_timeout", d.acse, where),
        dimse=_float(item, "dimse_timeout", d.dimse, where),
        network=_float(item, "network_timeout", d.network, where),
    )
    tls = None
    raw_tls = item.get("tls")
    if raw_tls is not None:
        if not isinstance(raw_tls, Mapping):
            raise ConfigError(f"{where}.tls", "ожидается таблица")
        tls = TlsConfig(
            ca_file=_path(raw_tls, "ca", f"{where}.tls"),
            cert_file=_path(raw_tls, "cert", f"{where}.tls"),
            key_file=_path(raw_tls, "key", f"{where}.tls"),
            check_hostname=bool(raw_tls.get("check_hostname", True)),
        )
    return PacsConfig(name, ae, host, port, tls, timeouts)


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _str(m: Mapping[str, object], key: str, default: str | None, where: str = "") -> str:
    v = m.get(key, default)
    if v is None:
        raise ConfigError(_key(where, key), "не задано")
    if not isinstance(v, str):
        raise ConfigError(_key(where, key), "ожидается строка")
    return v


def _int(
    m: Mapping[str, object], key: str, default: int, *, lo: int, hi: int, where: str = ""
) -> int:
    v = m.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise ConfigError(_key(where, key), "ожидается целое число")
    try:
        n = int(v)
    except ValueError:
        raise ConfigError(_key(where, key), "ожидается целое число") from None
    if not lo <= n <= hi:
        raise ConfigError(_key(where, key), f"должно быть от {lo} до {hi}")
    return n


def _float(m: Mapping[str, object], key: str, default: float, where: str) -> float:
    v = m.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ConfigError(_key(where, key), "ожидается число секунд")
    try:
        x = float(v)
    except ValueError:
        raise ConfigError(_key(where, key), "ожидается число секунд") from None
    if not 0 < x <= 3600:
        raise ConfigError(_key(where, key), "должно быть больше 0 и не больше 3600 секунд")
    return x


def _path(m: Mapping[str, object], key: str, where: str) -> Path | None:
    v = m.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v:
        raise ConfigError(_key(where, key), "ожидается путь к файлу")
    return Path(v).expanduser()


def _check_ae(key: str, title: str) -> None:
    if not valid_ae_title(title):
        raise ConfigError(key, "AE title: 1–16 латинских символов без «\\»")
