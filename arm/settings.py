"""The one settings object, and where its values come from.

Precedence, lowest first: built-in defaults < site config ``/etc/arm/arm.toml`` (the IT
department's, per workstation) < the user's ``arm.toml`` in their config dir < environment
variables ``ARM_*``.  Secrets never come from here: a database password found in a config
file is refused, because config files get copied around and attached to tickets; passwords
live in the OS keyring (:mod:`services.secrets`).

The file format is TOML::

    [database]
    url = "postgresql://arm@db.gp12.local/arm"

    [workstation]
    code = "ws-214"
"""

from __future__ import annotations

import dataclasses
import os
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from dicom.config import DicomConfig
from dicom.config import load_config as load_dicom_config
from dicom.errors import ConfigError
from services.errors import ValidationError

__all__ = [
    "SITE_CONFIG",
    "Settings",
    "load_settings",
    "parse_offset",
    "site_config_path",
    "update_config_file",
]

SITE_CONFIG = Path("/etc/arm/arm.toml")
APP_NAME = "arm"

#: Bump when a field is renamed or removed (a new field with a default needs no bump).
SETTINGS_VERSION = 1


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one running ARM."""

    database_url: str = ""
    """SQLAlchemy URL; empty means the embedded SQLite file in ``data_dir``."""

    workstation_code: str = field(default_factory=socket.gethostname)
    """Which registered workstation this PC is (names it in audit events)."""

    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)))
    """Per-user data: the embedded database, drafts, the local study cache."""

    language: str = "ru"
    """UI language: ``ru`` (default) or ``en``."""

    demo: bool = False
    """Demo mode: seed demo data on first start, enrol the demo staff cards, accept the
    virtual card reader and show the card tray."""

    search_page_size: int = 100
    """Rows fetched per page by lazily loaded lists."""

    card_readers: tuple[str, ...] = ("*",)
    """Allow-list of staff-card reader names (shell patterns, e.g. ``"ACS ACR38U*"``)."""

    patient_readers: tuple[str, ...] = ()
    """Readers (shell patterns) that hold the *patient's* card — the OMS policy: a card there
    opens the patient and never signs anyone in.  The demo uses the virtual reader's second
    slot (``"Virtual PCD * 01"``)."""

    virtual_reader: bool = False
    """Accept the emulator's «Virtual PCD» reader: tests only (the demo implies it).  Never on
    a production PC — vpcd lets anyone on the network "insert" a card."""

    idle_lock_minutes: int = 10
    """Lock the screen after this long without keyboard or mouse (0 = never)."""

    sms_gateway_url: str = ""
    """Kannel's sendsms URL (``http://sms.gp12.local:13013/cgi-bin/sendsms``); empty: codes
    wait in the outbox until a dispatcher with a gateway runs.  The password is in the
    keyring (``arm sms set-password``), or ``ARM_SMS_PASSWORD`` for a service unit."""

    sms_username: str = "arm"
    sms_sender: str = "ARM"

    sms_dlr_listen: str = "127.0.0.1:13180"
    """Where the dispatcher takes Kannel's delivery reports (host:port)."""

    sms_dispatch_in_app: bool = False
    """Run the SMS dispatcher inside this ARM (one-PC setups and the demo); a polyclinic
    runs ``arm sms dispatch`` as a service on one machine instead."""

    child_access_code_hours: int = 24
    """How long a child-access code sent by SMS stays valid."""

    prescription_region: str = "45"
    """The first two ОКАТО digits of the polyclinic's region: the series of a computer-made
    148-1/у-04(л) begins with them (1094н прил. 3 п. 1); 45 is Moscow."""

    print_offset_mm: str = "0,0"
    """This PC's printer offset «x,y» in mm for forms filled onto pre-printed blanks
    (148-1/у-88, the 347н sick-leave blank): measured once on the calibration sheet
    (``arm admin print calibration``), set with ``arm admin print offset``."""

    dicom_site: dict[str, object] = field(default_factory=dict)
    """The ``[dicom]`` table as written (``ae_title``, ``storage_port``, ``cache_limit_mb``,
    ``retrieve = "get" | "move"`` and the ``[[dicom.pacs]]`` list); :attr:`dicom_config`
    validates it.  TOML only: a PACS list does not fit an environment variable."""

    demo_pacs: bool = True
    """In the demo without a configured PACS, start a local Orthanc with generated studies."""

    @property
    def dicom_config(self) -> DicomConfig:
        """The PACS list and this PC's AE title; load_settings has already checked them."""
        return load_dicom_config(self.dicom_site)

    @property
    def dicom_retrieve_move(self) -> bool:
        """C-MOVE (the PACS connects back to our storage SCP) instead of C-GET."""
        return str(self.dicom_site.get("retrieve", "get")).lower() == "move"

    @property
    def print_offset(self) -> tuple[float, float]:
        """:attr:`print_offset_mm` as numbers; load_settings has already checked it."""
        return parse_offset(self.print_offset_mm)

    @property
    def effective_patient_readers(self) -> tuple[str, ...]:
        if self.patient_readers or not self.demo:
            return self.patient_readers
        return ("Virtual PCD * 01",)

    @property
    def accepts_virtual_reader(self) -> bool:
        return self.virtual_reader or self.demo

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+pysqlite:///{self.data_dir / 'arm.sqlite3'}"

    @property
    def is_embedded(self) -> bool:
        # A string test, not sqlalchemy.make_url: settings load before the window paints,
        # and SQLAlchemy is imported later, off the GUI thread.
        return self.effective_database_url.startswith("sqlite")


# (section, key) in TOML → field name; env var is ARM_<FIELD NAME UPPER>.
_TOML_KEYS: dict[tuple[str, str], str] = {
    ("database", "url"): "database_url",
    ("workstation", "code"): "workstation_code",
    ("paths", "data_dir"): "data_dir",
    ("ui", "language"): "language",
    ("ui", "search_page_size"): "search_page_size",
    ("demo", "enabled"): "demo",
    ("cards", "readers"): "card_readers",
    ("cards", "patient_readers"): "patient_readers",
    ("cards", "idle_lock_minutes"): "idle_lock_minutes",
    ("sms", "gateway_url"): "sms_gateway_url",
    ("sms", "username"): "sms_username",
    ("sms", "sender"): "sms_sender",
    ("sms", "dlr_listen"): "sms_dlr_listen",
    ("sms", "dispatch_in_app"): "sms_dispatch_in_app",
    ("child_access", "code_hours"): "child_access_code_hours",
    ("printing", "offset_mm"): "print_offset_mm",
    ("prescriptions", "region_code"): "prescription_region",
    ("demo", "pacs"): "demo_pacs",
}

MAX_OFFSET_MM = 20.0  # more than this is a wrong measurement or a misfed blank, not an offset


def parse_offset(text: str, *, source: str = "настройка printing.offset_mm") -> tuple[float, float]:
    """«1.5,-0.8» (or «1,5; -0,8» as a Russian user writes it) → (1.5, -0.8) mm.

    Raises:
        ValidationError: not two numbers, or either beyond ±20 mm.
    """
    if ";" in text or len(text.split()) == 2:
        parts = [p.strip().replace(",", ".") for p in text.replace(";", " ").split()]
    else:
        parts = text.split(",")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:  # also: not exactly two values
        raise ValidationError(
            f"Смещение печати ({source})", f"нужно два числа в мм «x,y», а не {text!r}"
        ) from None
    if abs(x) > MAX_OFFSET_MM or abs(y) > MAX_OFFSET_MM:
        raise ValidationError(
            f"Смещение печати ({source})", f"не больше {MAX_OFFSET_MM:g} мм по каждой оси"
        )
    return x, y


def _coerce(name: str, value: object, source: str) -> object:
    f = {f.name: f for f in dataclasses.fields(Settings)}[name]
    typ = str(f.type)
    try:
        if typ == "bool":
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on", "да")
            return bool(value)
        if typ == "int":
            return int(str(value))
        if typ == "Path":
            return Path(str(value)).expanduser()
        if typ.startswith("tuple"):
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple):
                raise ValueError(value)
            return tuple(str(i).strip() for i in items if str(i).strip())
        return str(value)
    except ValueError:
        raise ValidationError(
            f"Настройка {name} ({source})", f"неверное значение {value!r}", key=name
        ) from None


def _from_toml(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"Файл настроек {path}", f"ошибка формата: {exc}") from None
    out: dict[str, object] = {}
    if isinstance(data.get("dicom"), dict):
        out["dicom_site"] = data["dicom"]
    for (section, key), name in _TOML_KEYS.items():
        sec = data.get(section)
        if isinstance(sec, dict) and key in sec:
            out[name] = _coerce(name, sec[key], str(path))
    if "database_url" in out and _has_password(str(out["database_url"])):
        raise ValidationError(
            f"Файл настроек {path}",
            "пароль базы данных в файле настроек запрещён — сохраните его в хранилище ключей "
            "командой «arm admin set-db-password»",
        )
    return out


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(url).password is not None


def _from_env(env: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in dataclasses.fields(Settings):
        var = f"ARM_{f.name.upper()}"
        if var in env and not str(f.type).startswith("dict"):
            out[f.name] = _coerce(f.name, env[var], var)
    return out


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "arm.toml"


def site_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("ARM_SITE_CONFIG", str(SITE_CONFIG)))


def update_config_file(path: Path, values: Mapping[str, Mapping[str, str]]) -> None:
    """Set ``[section] key = value`` in a TOML config file, keeping everything else in it —
    the comments and settings IT staff wrote by hand included (tomlkit round-trips them).

    Written to a temporary file and renamed over the old one: a power cut leaves the old
    config or the new one, never half of each.

    Raises:
        ValidationError: The file is not valid TOML, or a database URL carries a password.
        PermissionError: No right to write the file (the site config wants root).
    """
    import tomlkit

    url = values.get("database", {}).get("url")
    if url and _has_password(url):
        raise ValidationError("Адрес базы данных", "пароль в файле настроек запрещён")
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ValidationError(f"Файл настроек {path}", f"ошибка формата: {exc}") from None
    for section, items in values.items():
        table = doc.get(section)
        if not isinstance(table, dict):
            table = tomlkit.table()
            doc[section] = table
        for key, value in items.items():
            table[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    tmp.chmod(0o644)  # readable by every user of the PC; it holds no secret
    tmp.replace(path)


def load_settings(
    *,
    env: Mapping[str, str] | None = None,
    site_config: Path | None = None,
    user_config: Path | None = None,
    **overrides: object,
) -> Settings:
    """Merge the layers; ``overrides`` (from the command line) win over everything."""
    env = os.environ if env is None else env
    site = site_config or site_config_path(env)
    user = user_config or Path(env.get("ARM_USER_CONFIG", str(user_config_path())))
    values: dict[str, object] = {}
    values.update(_from_toml(site))
    values.update(_from_toml(user))
    values.update(_from_env(env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)  # type: ignore[arg-type]
    parse_offset(settings.print_offset_mm)  # a wrong offset is said at start, not at printing
    if not (len(settings.prescription_region) == 2 and settings.prescription_region.isdigit()):
        raise ValidationError(
            "Настройка prescriptions.region_code",
            f"две цифры ОКАТО региона (Москва — 45), а не {settings.prescription_region!r}",
        )
    try:
        settings.dicom_config  # noqa: B018 — a wrong PACS entry is said at start
    except ConfigError as exc:
        raise ValidationError(f"Настройка dicom.{exc.key}", exc.rule, key=exc.key) from None
    if str(settings.dicom_site.get("retrieve", "get")).lower() not in ("get", "move"):
        raise ValidationError("Настройка dicom.retrieve", "«get» или «move»", key="retrieve")
    return settings
