"""The workstation's local study cache: DICOM files on disk plus a small SQLite index.

Why stdlib ``sqlite3`` and not the application's SQLAlchemy database: the cache belongs to one
workstation (its files are on this PC's disk), it must work with no database configured (the
CD-import-only demo), and its writes come from retrieval threads at hundreds per second —
batched ``executemany`` on a local file is the cheapest way.  The index is derived data: if it
is lost the files can be re-imported; if a file is lost the study is simply incomplete.

Layout: ``<root>/<study uid>/<series uid>/<sop instance uid>.dcm`` (UIDs that are not plain
digits-and-dots become hashes).  A study is *complete* once every instance the PACS listed has
arrived; an incomplete one (a transfer that broke) is still openable and a retry fetches only
what is missing.  Eviction is least-recently-used by ``last_opened`` (else ``added``) and never
touches a pinned study (open in a viewer or being retrieved).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dicom.errors import CacheError
from dicom.sorting import sort_key_from_file

__all__ = ["CachedStudy", "NewInstance", "OpenedStudy", "StudyCache", "StudyRecord", "safe_uid"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    study_uid TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL DEFAULT '',
    patient_name TEXT NOT NULL DEFAULT '',
    birth_date TEXT NOT NULL DEFAULT '',
    study_date TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    modalities TEXT NOT NULL DEFAULT '',
    accession TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    expected INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    added REAL NOT NULL,
    last_opened REAL
);
CREATE TABLE IF NOT EXISTS instances (
    sop_uid TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL REFERENCES studies(study_uid) ON DELETE CASCADE,
    series_uid TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    instance_number INTEGER,
    position REAL
);
CREATE INDEX IF NOT EXISTS instances_study ON instances(study_uid, series_uid);
"""

_UID_RE = re.compile(r"^[0-9][0-9.]{0,63}$")


def safe_uid(uid: str) -> str:
    """A file name for a UID: the UID itself if it is digits and dots, else a hash of it."""
    if _UID_RE.match(uid) and ".." not in uid:
        return uid
    return "x" + hashlib.sha1(uid.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class StudyRecord:
    """What the cache keeps about a study besides its files (shown in the study list)."""

    study_uid: str
    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""
    study_date: str = ""
    description: str = ""
    modalities: str = ""
    accession: str = ""
    source: str = ""
    """Where it came from: a PACS name, or «CD» for an import."""


@dataclass(frozen=True)
class NewInstance:
    """One instance file already written in its final place, to be indexed."""

    sop_uid: str
    study_uid: str
    series_uid: str
    path: Path
    size: int
    instance_number: int | None = None
    position: float | None = None


@dataclass(frozen=True)
class CachedStudy:
    record: StudyRecord
    instances: int
    size: int
    expected: int
    complete: bool
    last_opened: float | None


@dataclass(frozen=True)
class OpenedStudy:
    """An opened study: each series' instance paths in slice order (no network involved)."""

    study_uid: str
    complete: bool
    series: dict[str, list[Path]] = field(default_factory=dict)


class StudyCache:
    """The cache; thread-safe (one connection behind a lock: writes are short batches)."""

    def __init__(self, root: Path, limit_bytes: int) -> None:
        self.root = root
        self.limit_bytes = limit_bytes
        root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(root / "index.sqlite3", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._pins: dict[str, int] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- paths ----------------------------------------------------------------------------
    def series_dir(self, study_uid: str, series_uid: str) -> Path:
        return self.root / safe_uid(study_uid) / safe_uid(series_uid)

    def instance_path(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        return self.series_dir(study_uid, series_uid) / f"{safe_uid(sop_uid)}.dcm"

    # --- writing --------------------------------------------------------------------------
    def register_study(self, rec: StudyRecord, *, expected: int = 0) -> None:
        """Create or refresh a study's row; empty fields keep what the row already says."""
        with self._lock, self._db:
            self._db.execute(
                """INSERT INTO studies (study_uid, patient_id, patient_name, birth_date, study_date,
                       description, modalities, accession, source, expected, added)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(study_uid) DO UPDATE SET
                       patient_id=COALESCE(NULLIF(excluded.patient_id, ''), patient_id),
                       patient_name=COALESCE(NULLIF(excluded.patient_name, ''), patient_name),
                       birth_date=COALESCE(NULLIF(excluded.birth_date, ''), birth_date),
                       study_date=COALESCE(NULLIF(excluded.study_date, ''), study_date),
                       description=COALESCE(NULLIF(excluded.description, ''), description),
                       modalities=COALESCE(NULLIF(excluded.modalities, ''), modalities),
                       accession=COALESCE(NULLIF(excluded.accession, ''), accession),
                       source=COALESCE(NULLIF(excluded.source, ''), source),
                       expected=MAX(expected, excluded.expected)""",
                (
                    rec.study_uid, rec.patient_id, rec.patient_name, rec.birth_date,
                    rec.study_date, rec.description, rec.modalities, rec.accession,
                    rec.source, expected, time.time(),
                ),
            )  # fmt: skip

    def add_instances(self, items: Iterable[NewInstance]) -> int:
        """Index instances whose files are in place; returns how many rows were written."""
        rows = [
            (
                i.sop_uid, i.study_uid, i.series_uid, self._rel(i.path), i.size,
                i.instance_number, i.position,
            )
            for i in items
        ]  # fmt: skip
        if rows:
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO instances VALUES (?,?,?,?,?,?,?)", rows
                )
        return len(rows)

    def set_complete(self, study_uid: str, complete: bool) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE studies SET complete=? WHERE study_uid=?", (int(complete), study_uid)
            )

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    # --- reading --------------------------------------------------------------------------
    def has_study(self, study_uid: str, *, complete_only: bool = True) -> bool:
        """Is the study here (complete, unless ``complete_only`` is False)?"""
        with self._lock:
            row = self._db.execute(
                "SELECT complete FROM studies WHERE study_uid=?", (study_uid,)
            ).fetchone()
        return row is not None and (bool(row[0]) or not complete_only)

    def known_instances(self, study_uid: str) -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT sop_uid FROM instances WHERE study_uid=?", (study_uid,)
            ).fetchall()
        return {r[0] for r in rows}

    def series_counts(self, study_uid: str) -> dict[str, int]:
        """Instances cached per series of a study."""
        with self._lock:
            rows = self._db.execute(
                "SELECT series_uid, COUNT(*) FROM instances WHERE study_uid=? GROUP BY series_uid",
                (study_uid,),
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def study(self, study_uid: str) -> CachedStudy | None:
        found = self.studies(study_uid=study_uid)
        return found[0] if found else None

    def studies(
        self, *, patient_id: str | None = None, study_uid: str | None = None
    ) -> list[CachedStudy]:
        """Cached studies, newest study date first (the EMK's «Исследования» list reads this)."""
        sql = """SELECT s.study_uid, s.patient_id, s.patient_name, s.birth_date, s.study_date,
                        s.description, s.modalities, s.accession, s.source,
                        COUNT(i.sop_uid), COALESCE(SUM(i.size), 0), s.expected, s.complete,
                        s.last_opened
                 FROM studies s LEFT JOIN instances i ON i.study_uid = s.study_uid"""
        where, args = [], []
        if patient_id is not None:
            where.append("s.patient_id = ?")
            args.append(patient_id)
        if study_uid is not None:
            where.append("s.study_uid = ?")
            args.append(study_uid)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " GROUP BY s.study_uid ORDER BY s.study_date DESC, s.added DESC"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [
            CachedStudy(StudyRecord(*r[:9]), r[9], r[10], r[11], bool(r[12]), r[13]) for r in rows
        ]

    def total_size(self) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT COALESCE(SUM(size), 0) FROM instances").fetchone()[0]
            )

    def open_study(self, study_uid: str, *, pin: bool = True) -> OpenedStudy:
        """The study's series with their instance paths in slice order; no network.

        Slices are ordered along the slice normal by Image Position (Patient), else by
        Instance Number; keys missing from the index (an import, a C-MOVE) are read from the
        file headers once and stored.  ``pin`` keeps the study from eviction until
        :meth:`close_study`; the open also counts as a use for LRU.

        Raises:
            CacheError: The study is not in the cache.
        """
        with self._lock:
            head = self._db.execute(
                "SELECT complete FROM studies WHERE study_uid=?", (study_uid,)
            ).fetchone()
            if head is None:
                raise CacheError("Исследования нет в локальном кэше")
            rows = self._db.execute(
                """SELECT sop_uid, series_uid, path, instance_number, position FROM instances
                   WHERE study_uid=?""",
                (study_uid,),
            ).fetchall()
            with self._db:
                self._db.execute(
                    "UPDATE studies SET last_opened=? WHERE study_uid=?", (time.time(), study_uid)
                )
            if pin:
                self._pins[study_uid] = self._pins.get(study_uid, 0) + 1
        fixes = []
        keyed: dict[str, list[tuple[float, int, str, Path]]] = {}
        for sop, series, rel, number, position in rows:
            path = self.root / rel
            if number is None and position is None:
                number, position = sort_key_from_file(path)
                fixes.append((number, position, sop))
            keyed.setdefault(series, []).append(
                (
                    position if position is not None else 0.0,
                    number if number is not None else 0,
                    path.name,
                    path,
                )
            )
        if fixes:
            with self._lock, self._db:
                self._db.executemany(
                    "UPDATE instances SET instance_number=?, position=? WHERE sop_uid=?", fixes
                )
        series_out = {s: [k[3] for k in sorted(v)] for s, v in keyed.items()}
        return OpenedStudy(study_uid, bool(head[0]), series_out)

    def close_study(self, study_uid: str) -> None:
        """Unpin a study opened with ``pin=True`` (the viewer closed)."""
        with self._lock:
            n = self._pins.get(study_uid, 0) - 1
            if n > 0:
                self._pins[study_uid] = n
            else:
                self._pins.pop(study_uid, None)

    def pin(self, study_uid: str) -> None:
        """Keep a study from eviction until the matching :meth:`close_study`."""
        with self._lock:
            self._pins[study_uid] = self._pins.get(study_uid, 0) + 1

    @contextlib.contextmanager
    def pinned(self, study_uid: str) -> Iterator[None]:
        """Keep a study from eviction for the duration (a retrieval in progress)."""
        self.pin(study_uid)
        try:
            yield
        finally:
            self.close_study(study_uid)

    def is_pinned(self, study_uid: str) -> bool:
        with self._lock:
            return study_uid in self._pins

    # --- eviction -------------------------------------------------------------------------
    def evict(self, limit_bytes: int | None = None) -> list[str]:
        """Remove least-recently-used unpinned studies until the cache fits; returns their UIDs."""
        limit = self.limit_bytes if limit_bytes is None else limit_bytes
        evicted: list[str] = []
        with self._lock:
            total = self.total_size()
            if total <= limit:
                return evicted
            rows = self._db.execute(
                """SELECT s.study_uid, COALESCE(SUM(i.size), 0) FROM studies s
                   LEFT JOIN instances i ON i.study_uid = s.study_uid
                   GROUP BY s.study_uid ORDER BY COALESCE(s.last_opened, s.added) ASC"""
            ).fetchall()
            for study_uid, size in rows:
                if total <= limit:
                    break
                if study_uid in self._pins:
                    continue
                self._remove(study_uid)
                total -= size
                evicted.append(study_uid)
        return evicted

    def remove_study(self, study_uid: str) -> None:
        with self._lock:
            if study_uid in self._pins:
                raise CacheError("Исследование открыто — его нельзя удалить из кэша")
            self._remove(study_uid)

    def _remove(self, study_uid: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM instances WHERE study_uid=?", (study_uid,))
            self._db.execute("DELETE FROM studies WHERE study_uid=?", (study_uid,))
        shutil.rmtree(self.root / safe_uid(study_uid), ignore_errors=True)
