"""Registering, opening (audited), editing and searching patients, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.models import AuditEvent, Patient, Sex
from services.patient_search import SearchQuery, parse_query, search_patients
from services.patients import open_card, update_patient
from services.validation import make_policy, make_snils
from tests.factories import base_org, person


def test_open_card_writes_an_audit_event(sessions: sessionmaker[Session]) -> None:
    actor, dept = base_org(sessions)
    p = person(sessions, actor, "Смирнова", "Ольга", "Петровна", dept_id=dept)
    with sessions() as s:
        card = open_card(s, actor, p.id)
    assert card.full_name == "Смирнова Ольга Петровна"
    assert card.attachment_department == "Взрослое отделение"
    with sessions() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "patient.open")).one()
    assert (ev.patient_id, ev.staff_id, ev.workstation_id) == (
        p.id,
        actor.staff_id,
        actor.workstation_id,
    )
    assert ev.at.tzinfo is not None


def test_open_missing_patient_is_not_found(sessions: sessionmaker[Session]) -> None:
    actor, _ = base_org(sessions)
    with sessions() as s, pytest.raises(NotFoundError):
        open_card(s, actor, 999_999)


def test_register_normalises_and_rejects_every_bad_field_at_once(
    sessions: sessionmaker[Session],
) -> None:
    actor, _ = base_org(sessions)
    p = person(sessions, actor, "  смирнова ", "ольга", "петровна", phone="8 (916) 123-45-67")
    assert (p.surname, p.name, p.phone) == ("Смирнова", "Ольга", "+79161234567")
    bad = dataclasses.replace(
        p.as_input(), surname="Smith", snils="11223344500", policy_number="1234", phone="123"
    )
    from services.patients import register_patient

    with sessions() as s, pytest.raises(ValidationErrors) as info:
        register_patient(s, actor, bad)
    keys = {e.key for e in info.value.errors}
    assert keys == {"surname", "snils", "policy", "phone"}
    assert all(str(e).startswith(e.field + ": ") for e in info.value.errors)


def test_duplicate_snils_and_policy_name_the_field(sessions: sessionmaker[Session]) -> None:
    actor, _ = base_org(sessions)
    first = person(sessions, actor, "Иванова", "Мария")
    from services.patients import register_patient

    twin = dataclasses.replace(first.as_input(), name="Дарья")
    with sessions() as s, pytest.raises(ValidationErrors) as info:
        register_patient(s, actor, twin)
    assert {str(e) for e in info.value.errors} == {
        "СНИЛС: уже указан в карте другого пациента",
        "Полис ОМС: уже указан в карте другого пациента",
    }


def test_same_snils_saved_at_once_by_two_registrars_names_the_field(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-check passed for both; the database's unique constraint decides the race."""
    actor, dept = base_org(sessions)
    first = person(sessions, actor, "Петров", "Пётр", "Ильич", sex=Sex.MALE, dept_id=dept)
    import services.patients as patients_module

    monkeypatch.setattr(patients_module, "_check_unique", lambda *_a: None)  # lost the race
    data = dataclasses.replace(
        first.as_input(), surname="Сидоров", policy_number="", snils=first.snils or ""
    )
    with sessions() as s, pytest.raises(ValidationErrors) as caught:
        patients_module.register_patient(s, actor, data)
    assert [(e.key, e.rule) for e in caught.value.errors] == [
        ("snils", "уже указан в карте другого пациента")
    ]
    context = caught.value.__context__
    assert context is not None
    assert "Сидоров" not in str(context)  # the SQL parameters never reach a log or a dialog
    assert "hidden" in str(context)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 1


def test_update_with_stale_version_is_a_conflict_and_changes_nothing(
    sessions: sessionmaker[Session],
) -> None:
    actor, _ = base_org(sessions)
    p = person(sessions, actor, "Кузнецова", "Елена")
    with sessions() as s:
        saved = update_patient(
            s, actor, p.id, p.version_id, dataclasses.replace(p.as_input(), surname="Орлова")
        )
    assert saved.version_id == p.version_id + 1
    with sessions() as s, pytest.raises(ConflictError):
        update_patient(
            s, actor, p.id, p.version_id, dataclasses.replace(p.as_input(), name="Ирина")
        )
    with sessions() as s:
        row = s.get(Patient, p.id)
        assert row is not None
        assert (row.surname, row.name, row.search_key) == ("Орлова", "Елена", "ОРЛОВА ЕЛЕНА")
        audit = s.scalar(select(AuditEvent.details).where(AuditEvent.action == "patient.update"))
    assert audit == "changed: surname"  # field names only, never the values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("иванов", SearchQuery(name_prefix="ИВАНОВ")),
        ("  Фёдоров   ан ", SearchQuery(name_prefix="ФЕДОРОВ АН")),
        ("bdfyjd", SearchQuery(name_prefix="ИВАНОВ")),  # typed in the Latin layout
        ("Петров 01.02.1990", SearchQuery(name_prefix="ПЕТРОВ", birth_date=dt.date(1990, 2, 1))),
        ("12.03.1985", SearchQuery(birth_date=dt.date(1985, 3, 12))),
        ("", SearchQuery()),
    ],
)
def test_parse_query(text: str, expected: SearchQuery) -> None:
    assert parse_query(text) == expected


def test_parse_query_numbers_and_hostile_input() -> None:
    policy = make_policy(123456)
    assert parse_query(" ".join(policy[i : i + 4] for i in range(0, 16, 4))) == SearchQuery(
        policy=policy
    )
    snils = make_snils(112233445)
    assert parse_query(f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}") == SearchQuery(
        snils=snils
    )
    with pytest.raises(ValidationError, match="СНИЛС: неверная контрольная сумма"):
        parse_query(snils[:-1] + str((int(snils[-1]) + 1) % 10))
    with pytest.raises(ValidationError, match="16 цифр"):
        parse_query("12345")
    with pytest.raises(ValidationError, match="Дата рождения: нет такой даты"):
        parse_query("Иванов 31.02.1990")
    for hostile in ("Иванов; DROP TABLE patient", "<script>", "Ива\x00нов", "😀"):
        with pytest.raises(ValidationError):
            parse_query(hostile)
    with pytest.raises(ValidationError, match="не длиннее"):
        parse_query("а" * 10_000)


def _names(rows: list) -> list[str]:  # type: ignore[type-arg]
    return [r.full_name for r in rows]


def test_search_by_prefix_date_policy_snils_and_paging(sessions: sessionmaker[Session]) -> None:
    actor, _ = base_org(sessions)
    people = [
        ("Иванова", "Анна", dt.date(1980, 1, 1)),
        ("Иванов", "Пётр", dt.date(1975, 5, 5)),
        ("Иванов", "Алексей", dt.date(1990, 2, 1)),
        ("Иваненко", "Олег", dt.date(1990, 2, 1)),
        ("Федорова", "Ёлка", dt.date(2001, 7, 7)),
        ("Ивлев", "Игорь", dt.date(1966, 6, 6)),
    ]
    cards = [person(sessions, actor, sn, n, sex=Sex.MALE, birth=b) for sn, n, b in people]
    with sessions() as s:
        assert _names(search_patients(s, parse_query("иван"))) == [
            "Иваненко Олег",
            "Иванов Алексей",
            "Иванов Пётр",
            "Иванова Анна",
        ]
        assert _names(search_patients(s, parse_query("Иванов А"))) == ["Иванов Алексей"]
        assert _names(search_patients(s, parse_query("ИВАНОВ "))) == [
            "Иванов Алексей",
            "Иванов Пётр",
            "Иванова Анна",
        ]
        assert _names(search_patients(s, parse_query("Ив 01.02.1990"))) == [
            "Иваненко Олег",
            "Иванов Алексей",
        ]
        assert _names(search_patients(s, parse_query("фёдорова"))) == ["Федорова Ёлка"]
        assert _names(search_patients(s, parse_query("Федорова Елка"))) == ["Федорова Ёлка"]
        assert _names(search_patients(s, SearchQuery(policy=cards[1].policy_number))) == [
            "Иванов Пётр"
        ]
        assert _names(search_patients(s, SearchQuery(snils=cards[5].snils))) == ["Ивлев Игорь"]
        assert search_patients(s, parse_query("Яковлев")) == []
        assert search_patients(s, SearchQuery()) == []
        # keyset paging: pages of 2 concatenate to the full ordered list, no repeats
        pages, after = [], None
        while True:
            page = search_patients(s, parse_query("ив"), after=after, limit=2)
            pages.extend(page)
            if len(page) < 2:
                break
            after = page[-1].cursor
        assert _names(pages) == _names(search_patients(s, parse_query("ив")))
        assert len(pages) == 5
    with sessions() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "patient.open")
            )
            == 0
        )
