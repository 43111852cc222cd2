"""Roles decide what is allowed — in the service, whatever the screen shows."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.access import Permission, can
from services.audit import Actor
from services.errors import AccessDenied
from services.models import AuditEvent, Role, Sex
from services.patient_search import parse_query
from services.patients import PatientInput
from services.registry import Registry
from tests.factories import base_org, person


def test_role_table() -> None:
    registrar = Actor(1, 1, frozenset({Role.REGISTRAR}))
    radiologist = Actor(2, 1, frozenset({Role.RADIOLOGIST}))
    doctor = Actor(3, 1, frozenset({Role.DOCTOR}))
    nobody = Actor(None, 1)
    assert can(registrar, Permission.CHILD_ACCESS)
    assert not can(registrar, Permission.RECORD_READ)  # no protocol text for the registry
    assert can(radiologist, Permission.CONCLUSION_WRITE)
    assert not can(radiologist, Permission.REGISTRY_WRITE)
    assert can(doctor, Permission.RECORD_WRITE)
    assert not can(doctor, Permission.CONCLUSION_WRITE)
    assert not any(can(nobody, p) for p in Permission)


def test_registry_refuses_a_radiologist_edit_and_audits_it(
    sessions: sessionmaker[Session],
) -> None:
    actor, dept = base_org(sessions)
    card = person(sessions, actor, "Зайцева", "Ольга", dept_id=dept)
    radiologist = Registry(
        sessions, Actor(actor.staff_id, actor.workstation_id, frozenset({Role.RADIOLOGIST}))
    )
    assert radiologist.search(parse_query("зайц"))  # finding the patient is allowed
    data = PatientInput(
        surname="Зайцева",
        name="Ольга",
        patronymic="",
        sex=Sex.FEMALE,
        birth_date=card.birth_date,
        snils=card.snils,
        policy_number=card.policy_number,
        phone="",
        address="",
        attachment_department_id=dept,
    )
    with pytest.raises(AccessDenied, match="рентгенолог"):
        radiologist.update(card.id, card.version_id, data)
    nobody = Registry(sessions, Actor(actor.staff_id, actor.workstation_id))
    with pytest.raises(AccessDenied):
        nobody.open_card(card.id)
    with sessions() as s:
        denied = s.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "access.denied")
        ).all()
    assert denied == ["patient.update: registry.write", "patient.open: registry.read"]
