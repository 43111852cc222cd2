"""Prescriptions bound to a database and an actor — what the prescription screens are given.

Writing and cancelling a prescription are record writes (a doctor's); the list and the print
carry drugs and diagnoses, so they are record reads.  The drug catalog is public reference
data and needs no permission.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from services import drugs, prescriptions, printouts
from services.access import Permission
from services.audit import Actor
from services.bound import BoundService
from services.drugs import Drug
from services.prescriptions import (
    REGION_CODE,
    PrescriptionInput,
    PrescriptionPrint,
    PrescriptionRow,
)
from services.printouts import PrintJob

__all__ = ["PrescriptionDesk"]

_READ = Permission.RECORD_READ
_WRITE = Permission.RECORD_WRITE


class PrescriptionDesk(BoundService):
    def __init__(
        self, sessions: sessionmaker[Session], actor: Actor, *, region_code: str = REGION_CODE
    ) -> None:
        """``region_code``: the first two ОКАТО digits of the polyclinic's region (the site
        config's), the start of every 148-1/у-04(л) series."""
        super().__init__(sessions, actor)
        self.region_code = region_code

    def search_drugs(self, query: str, limit: int = 30) -> list[Drug]:
        return drugs.search(query, limit)

    def of_patient(self, patient_id: int) -> list[PrescriptionRow]:
        return self._run(
            lambda s: prescriptions.patient_prescriptions(s, patient_id), _READ, "", patient_id
        )

    def get(self, prescription_id: int) -> PrescriptionRow:
        return self._run(lambda s: prescriptions.get(s, prescription_id), _READ)

    def issue(
        self,
        patient_id: int,
        inputs: Sequence[PrescriptionInput],
        encounter_id: int | None = None,
    ) -> list[PrescriptionRow]:
        def work(s: Session) -> list[PrescriptionRow]:
            ids = prescriptions.issue(
                s,
                self.actor,
                patient_id,
                inputs,
                encounter_id=encounter_id,
                region_code=self.region_code,
            )
            return [prescriptions.get(s, i) for i in ids]

        return self._run(work, _WRITE, "prescription.issue", patient_id)

    def cancel(self, prescription_id: int, reason: str) -> PrescriptionRow:
        def work(s: Session) -> PrescriptionRow:
            prescriptions.cancel(s, self.actor, prescription_id, reason)
            return prescriptions.get(s, prescription_id)

        return self._run(work, _WRITE, "prescription.cancel")

    def print_data(self, prescription_id: int) -> PrescriptionPrint:
        return self._run(lambda s: prescriptions.print_data(s, prescription_id), _READ)

    def archive(self, job: PrintJob) -> int:
        return self._run(
            lambda s: printouts.archive(s, self.actor, job), _READ, "print", job.patient_id
        )
