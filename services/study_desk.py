"""Studies and conclusions bound to a database and an actor — what the study screens get.

Keeping what the PACS found and reading the list are STUDIES (a treating doctor opens the
images from the record); drafting and signing a conclusion is CONCLUSION_WRITE, the
radiologist's.  Every call is one transaction in the DB lane.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from services import studies
from services.access import Permission
from services.bound import BoundService
from services.conclusion_templates import ConclusionTemplate, templates_for
from services.models import Patient, ReadingStatus
from services.studies import StudyFacts, StudyRow

__all__ = ["StudyDesk"]

_READ = Permission.STUDIES
_WRITE = Permission.CONCLUSION_WRITE


class StudyDesk(BoundService):
    def record(self, facts: Sequence[StudyFacts], *, patient_id: int | None = None) -> int:
        def work(s: Session) -> int:
            with s.begin():
                return studies.record(s, self.actor, facts, patient_id=patient_id)

        return self._run(work, _READ, "study.found", patient_id)

    def dicom_patient_id(self, patient_id: int) -> str:
        def work(s: Session) -> str:
            p = s.get(Patient, patient_id)
            return studies.dicom_patient_id(p.policy_number if p else None, patient_id)

        return self._run(work, _READ, "", patient_id)

    def of_patient(self, patient_id: int) -> list[StudyRow]:
        return self._run(
            lambda s: studies.patient_studies(s, patient_id), _READ, "study.list", patient_id
        )

    def worklist(
        self,
        start: dt.date,
        end: dt.date,
        *,
        modality: str = "",
        status: ReadingStatus | None = None,
    ) -> list[StudyRow]:
        return self._run(
            lambda s: studies.worklist(s, start, end, modality=modality, status=status), _READ
        )

    def get(self, study_uid: str) -> StudyRow:
        return self._run(lambda s: studies.get(s, study_uid), _READ)

    def templates(self, modality: str) -> list[ConclusionTemplate]:
        return templates_for(modality)

    def save_draft(
        self, study_uid: str, findings: str, conclusion: str, version_id: int
    ) -> StudyRow:
        def work(s: Session) -> StudyRow:
            with s.begin():
                studies.save_draft(s, self.actor, study_uid, findings, conclusion, version_id)
            return studies.get(s, study_uid)

        return self._run(work, _WRITE, "study.draft")

    def sign(
        self,
        study_uid: str,
        findings: str,
        conclusion: str,
        version_id: int,
        *,
        amend_reason: str = "",
    ) -> StudyRow:
        def work(s: Session) -> StudyRow:
            with s.begin():
                studies.sign(
                    s,
                    self.actor,
                    study_uid,
                    findings,
                    conclusion,
                    version_id,
                    amend_reason=amend_reason,
                )
            return studies.get(s, study_uid)

        return self._run(work, _WRITE, "study.sign")
