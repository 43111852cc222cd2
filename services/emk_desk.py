"""The EMK's use cases bound to a database and an actor — what the EMK screen is given.

Reading needs «чтение медицинской карты», writing «записи в медицинской карте»; a registrar's
workstation is refused here whatever its buttons do.  Opening the record returns the header,
the timeline and the specialties from one session, so the first paint is one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services import emk, protocols, vitals
from services.access import Permission
from services.bound import BoundService
from services.emk import DocumentView, EmkHeader, TimelineFilter, TimelineRow
from services.lab_types import LabPoint, LabTest
from services.models import AllergySeverity, Staff
from services.protocols import DraftInfo, ProtocolInput

__all__ = ["EmkDesk", "EmkSnapshot"]

_READ = Permission.RECORD_READ
_WRITE = Permission.RECORD_WRITE


@dataclass(frozen=True)
class EmkSnapshot:
    header: EmkHeader
    rows: list[TimelineRow]
    specialties: list[str]
    draft: DraftInfo | None  # this doctor's unsigned protocol for this patient
    encounter_id: int | None  # this doctor's visit with the patient under way
    specialty: str  # the signed-in doctor's, for the templates offered first


def _specialty(s: Session, staff_id: int | None) -> str:
    staff = s.get(Staff, staff_id) if staff_id is not None else None
    return staff.specialty if staff is not None else ""


class EmkDesk(BoundService):
    def open(self, patient_id: int, flt: TimelineFilter | None = None) -> EmkSnapshot:
        def work(s: Session) -> EmkSnapshot:
            header = emk.open_emk(s, self.actor, patient_id)
            staff = self.actor.staff_id
            return EmkSnapshot(
                header,
                emk.timeline(s, patient_id, flt or TimelineFilter()),
                emk.specialties(s, patient_id),
                protocols.load_draft(s, staff, patient_id) if staff is not None else None,
                protocols.current_encounter(s, staff, patient_id) if staff is not None else None,
                _specialty(s, staff),
            )

        return self._run(work, _READ, "emk.open", patient_id)

    def header(self, patient_id: int) -> EmkHeader:
        return self._run(lambda s: emk.header(s, patient_id), _READ, "emk.header", patient_id)

    def timeline(self, patient_id: int, flt: TimelineFilter) -> list[TimelineRow]:
        return self._run(
            lambda s: emk.timeline(s, patient_id, flt), _READ, "emk.timeline", patient_id
        )

    def document(self, document_id: int) -> DocumentView:
        return self._run(
            lambda s: emk.read_document(s, self.actor, document_id), _READ, "emk.document.view"
        )

    def lab_tests(self, patient_id: int) -> list[LabTest]:
        return self._run(lambda s: emk.lab_tests(s, patient_id), _READ, "emk.labs", patient_id)

    def lab_trend(self, patient_id: int, test_code: str) -> list[LabPoint]:
        return self._run(
            lambda s: emk.lab_trend(s, patient_id, test_code), _READ, "emk.labs", patient_id
        )

    # --- the protocol ---------------------------------------------------------------------
    def save_draft(
        self,
        patient_id: int,
        fields: dict[str, Any],
        revision: int,
        *,
        encounter_id: int | None = None,
        amends_id: int | None = None,
    ) -> int:
        return self._run(
            lambda s: protocols.save_draft(
                s,
                self.actor,
                patient_id,
                fields,
                revision,
                encounter_id=encounter_id,
                amends_id=amends_id,
            ),
            _WRITE,
            "emk.protocol.draft",
            patient_id,
        )

    def drafts(self) -> list[DraftInfo]:
        staff = self.actor.staff_id
        if staff is None:
            return []
        return self._run(lambda s: protocols.drafts_of(s, staff), _WRITE, "emk.protocol.drafts")

    def discard_draft(self, patient_id: int) -> None:
        self._run(
            lambda s: protocols.discard_draft(s, self.actor, patient_id),
            _WRITE,
            "emk.protocol.discard",
            patient_id,
        )

    def sign(
        self,
        patient_id: int,
        inp: ProtocolInput,
        *,
        encounter_id: int | None = None,
        amends_id: int | None = None,
    ) -> int:
        return self._run(
            lambda s: protocols.sign(
                s, self.actor, patient_id, inp, encounter_id=encounter_id, amends_id=amends_id
            ),
            _WRITE,
            "emk.protocol.sign",
            patient_id,
        )

    def amendment_input(self, document_id: int) -> tuple[int, ProtocolInput]:
        return self._run(
            lambda s: protocols.amendment_input(s, document_id), _WRITE, "emk.protocol.amend"
        )

    def previous_protocol(self, patient_id: int, specialty: str) -> Any:
        return self._run(
            lambda s: protocols.previous_protocol(s, patient_id, specialty),
            _READ,
            "emk.protocol.previous",
            patient_id,
        )

    # --- signal data ----------------------------------------------------------------------
    def add_allergy(
        self, patient_id: int, substance: str, reaction: str, severity: AllergySeverity | None
    ) -> EmkHeader:
        def work(s: Session) -> EmkHeader:
            vitals.add_allergy(s, self.actor, patient_id, substance, reaction, severity)
            return emk.header(s, patient_id)

        return self._run(work, _WRITE, "emk.allergy.add", patient_id)

    def end_allergy(self, patient_id: int, allergy_id: int, reason: str) -> EmkHeader:
        def work(s: Session) -> EmkHeader:
            vitals.end_allergy(s, self.actor, allergy_id, reason)
            return emk.header(s, patient_id)

        return self._run(work, _WRITE, "emk.allergy.end", patient_id)

    def add_dispensary(self, patient_id: int, code: str, since: Any, specialty: str) -> EmkHeader:
        def work(s: Session) -> EmkHeader:
            vitals.add_dispensary(s, self.actor, patient_id, code, since, specialty)
            return emk.header(s, patient_id)

        return self._run(work, _WRITE, "emk.dispensary.add", patient_id)

    def end_dispensary(self, patient_id: int, condition_id: int, reason: str) -> EmkHeader:
        def work(s: Session) -> EmkHeader:
            vitals.end_dispensary(s, self.actor, condition_id, reason)
            return emk.header(s, patient_id)

        return self._run(work, _WRITE, "emk.dispensary.end", patient_id)

    def set_blood_type(self, patient_id: int, abo: str, rh: str) -> EmkHeader:
        def work(s: Session) -> EmkHeader:
            vitals.set_blood_type(s, self.actor, patient_id, abo, rh)
            return emk.header(s, patient_id)

        return self._run(work, _WRITE, "emk.blood_type.set", patient_id)
