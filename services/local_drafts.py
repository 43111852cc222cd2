"""The protocol draft's local copy: a file per doctor and patient, written about once a second.

Why a file as well as the database: a killed process, a frozen network or a database that
is down must not cost the doctor more than the last two seconds of typing.  The file is
written atomically (a temporary file, flushed and fsync'ed, then renamed over the old one),
so a crash mid-write leaves the previous copy, never half a file.  It holds patient data:
it is readable by its owner only, lives in the user's data directory, and is removed when
the protocol is signed or the draft dropped.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LocalDraft", "LocalDrafts"]

_NAME = re.compile(r"^staff-(\d+)-patient-(\d+)\.json$")


@dataclass(frozen=True)
class LocalDraft:
    staff_id: int
    patient_id: int
    revision: int
    encounter_id: int | None
    amends_id: int | None
    fields: dict[str, Any]


class LocalDrafts:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, staff_id: int, patient_id: int) -> Path:
        return self.directory / f"staff-{staff_id}-patient-{patient_id}.json"

    def save(self, draft: LocalDraft) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(draft.staff_id, draft.patient_id)
        tmp = path.with_suffix(".tmp")
        data = json.dumps(
            {
                "staff_id": draft.staff_id,
                "patient_id": draft.patient_id,
                "revision": draft.revision,
                "encounter_id": draft.encounter_id,
                "amends_id": draft.amends_id,
                "fields": draft.fields,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    def load(self, staff_id: int, patient_id: int) -> LocalDraft | None:
        return self._read(self._path(staff_id, patient_id))

    def _read(self, path: Path) -> LocalDraft | None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return LocalDraft(
                int(raw["staff_id"]),
                int(raw["patient_id"]),
                int(raw["revision"]),
                raw.get("encounter_id"),
                raw.get("amends_id"),
                dict(raw["fields"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or unreadable: the database copy is the fallback

    def of_staff(self, staff_id: int) -> list[LocalDraft]:
        if not self.directory.is_dir():
            return []
        out: list[LocalDraft] = []
        for path in sorted(self.directory.iterdir()):
            m = _NAME.match(path.name)
            if m and int(m.group(1)) == staff_id:
                draft = self._read(path)
                if draft is not None:
                    out.append(draft)
        return out

    def remove(self, staff_id: int, patient_id: int) -> None:
        self._path(staff_id, patient_id).unlink(missing_ok=True)
