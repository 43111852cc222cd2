"""Small, explicit test data built through the services' own use cases."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session, sessionmaker

from services.audit import Actor
from services.models import (
    Department,
    DepartmentKind,
    Organisation,
    Role,
    Sex,
    Staff,
    StaffRole,
    Workstation,
)
from services.patients import PatientCard, PatientInput, register_patient
from services.validation import make_policy, make_snils

_numbers = itertools.count(2_000_000)


def base_org(sessions: sessionmaker[Session]) -> tuple[Actor, int]:
    """An organisation, one department, a doctor and a workstation; returns (actor, dept id)."""
    with sessions() as s:
        org = Organisation(
            name="ГБУЗ «ГП № 1»", short_name="ГП № 1", ogrn="1027700000001", address=""
        )
        s.add(org)
        s.flush()
        dept = Department(
            organisation_id=org.id, name="Взрослое отделение", kind=DepartmentKind.ADULT
        )
        s.add(dept)
        s.flush()
        doc = Staff(
            surname="Петрова",
            name="Анна",
            patronymic="Сергеевна",
            position="Врач-терапевт участковый",
            department_id=dept.id,
        )
        doc.roles.append(StaffRole(role=Role.DOCTOR))
        ws = Workstation(code="ws-test", name="Тестовый АРМ")
        s.add_all([doc, ws])
        s.commit()
        return Actor(doc.id, ws.id, frozenset({Role.DOCTOR})), dept.id


def person(
    sessions: sessionmaker[Session],
    actor: Actor,
    surname: str,
    name: str,
    patronymic: str = "",
    *,
    sex: Sex = Sex.FEMALE,
    birth: dt.date = dt.date(1985, 3, 12),
    phone: str = "",
    with_ids: bool = True,
    dept_id: int | None = None,
) -> PatientCard:
    n = next(_numbers)
    data = PatientInput(
        surname=surname,
        name=name,
        patronymic=patronymic,
        sex=sex,
        birth_date=birth,
        snils=make_snils(n) if with_ids else "",
        policy_number=make_policy(n) if with_ids else "",
        phone=phone,
        address="г. Москва, ул. Профсоюзная, д. 1",
        attachment_department_id=dept_id,
    )
    with sessions() as s:
        return register_patient(s, actor, data)


def open_day(
    sessions: sessionmaker[Session],
    staff_id: int,
    start: dt.datetime,
    count: int,
    minutes: int = 15,
) -> list[int]:
    """``count`` consecutive bookable slots from ``start`` (aware); returns their ids."""
    from services.models import ScheduleSlot

    with sessions() as s:
        slots = [
            ScheduleSlot(
                staff_id=staff_id,
                starts_at=start + dt.timedelta(minutes=minutes * i),
                ends_at=start + dt.timedelta(minutes=minutes * (i + 1)),
                bookable=True,
            )
            for i in range(count)
        ]
        s.add_all(slots)
        s.commit()
        return [sl.id for sl in slots]


def colleague(
    sessions: sessionmaker[Session], dept_id: int, surname: str, role: Role = Role.DOCTOR
) -> Actor:
    """Another staff member of the department (a second doctor, a registrar)."""
    with sessions() as s:
        st = Staff(
            surname=surname,
            name="Мария",
            patronymic="Ивановна",
            position="Сотрудник",
            department_id=dept_id,
        )
        st.roles.append(StaffRole(role=role))
        s.add(st)
        s.commit()
        return Actor(st.id, None, frozenset({role}))
