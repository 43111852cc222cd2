"""The registry's use cases bound to a database and an actor — what the screens are given.

Each method is one unit of work with its own session and transaction, safe to call from the
task runner's DB lane; screens never hold a session or see SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services import patient_cards, patient_search, patients, relations
from services.access import Permission
from services.bound import BoundService
from services.card.oms import OmsHolder
from services.patient_cards import CardMatch
from services.patient_search import PatientRow, SearchQuery
from services.patients import PatientCard, PatientInput
from services.relations import RelationInput, RelationView

__all__ = ["Registry"]


class Registry(BoundService):
    def search(
        self, query: SearchQuery, after: tuple[str, int] | None = None, limit: int = 100
    ) -> list[PatientRow]:
        return self._run(
            lambda s: patient_search.search_patients(s, query, after=after, limit=limit)
        )

    def identify_card(self, holder: OmsHolder) -> CardMatch:
        """A patient card read in the patient reader: who it is, and what differs."""
        return self._run(
            lambda s: patient_cards.identify(s, self.actor, holder), action="patient_card.read"
        )

    def open_card(self, patient_id: int) -> tuple[PatientCard, list[RelationView]]:
        def work(s: Session) -> tuple[PatientCard, list[RelationView]]:
            card = patients.open_card(s, self.actor, patient_id)
            return card, relations.list_relations(s, patient_id)

        return self._run(work, action="patient.open", patient_id=patient_id)

    def register(self, data: PatientInput) -> PatientCard:
        return self._run(
            lambda s: patients.register_patient(s, self.actor, data),
            Permission.REGISTRY_WRITE,
            "patient.register",
        )

    def update(self, patient_id: int, version_id: int, data: PatientInput) -> PatientCard:
        return self._run(
            lambda s: patients.update_patient(s, self.actor, patient_id, version_id, data),
            Permission.REGISTRY_WRITE,
            "patient.update",
            patient_id,
        )

    def departments(self) -> list[tuple[int, str]]:
        return self._run(patients.list_departments)

    def relations(self, patient_id: int) -> list[RelationView]:
        return self._run(lambda s: relations.list_relations(s, patient_id))

    def add_relation(self, patient_id: int, data: RelationInput) -> RelationView:
        return self._run(
            lambda s: relations.add_relation(s, self.actor, patient_id, data),
            Permission.REGISTRY_WRITE,
            "relation.add",
            patient_id,
        )

    def update_relation(
        self, relation_id: int, version_id: int, data: RelationInput
    ) -> RelationView:
        return self._run(
            lambda s: relations.update_relation(s, self.actor, relation_id, version_id, data),
            Permission.REGISTRY_WRITE,
            "relation.update",
        )

    def end_relation(
        self, relation_id: int, version_id: int, on: dt.date | None = None
    ) -> RelationView:
        return self._run(
            lambda s: relations.end_relation(s, self.actor, relation_id, version_id, on),
            Permission.REGISTRY_WRITE,
            "relation.end",
        )
