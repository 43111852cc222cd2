"""Family relations and legal representatives: the rules, both directions, ending, conflicts."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.errors import ConflictError, ValidationErrors
from services.models import AuditEvent, RelationKind, Sex
from services.relations import (
    RelationInput,
    add_relation,
    end_relation,
    list_relations,
    update_relation,
)
from tests.factories import base_org, person

TODAY = dt.date.today()


def _family(sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    actor, _ = base_org(sessions)
    child = person(
        sessions,
        actor,
        "Соколов",
        "Миша",
        "Андреевич",
        sex=Sex.MALE,
        birth=TODAY.replace(year=TODAY.year - 7),
    )
    mother = person(
        sessions,
        actor,
        "Соколова",
        "Ирина",
        "Петровна",
        sex=Sex.FEMALE,
        birth=dt.date(1988, 4, 2),
        phone="+79161112233",
    )
    father = person(
        sessions, actor, "Соколов", "Андрей", "Ильич", sex=Sex.MALE, birth=dt.date(1986, 1, 9)
    )
    return actor, child, mother, father


def _errors(exc: pytest.ExceptionInfo[ValidationErrors]) -> set[str]:
    return {str(e) for e in exc.value.errors}


def test_add_relation_is_seen_from_both_sides_and_audited(sessions: sessionmaker[Session]) -> None:
    actor, child, mother, _ = _family(sessions)
    data = RelationInput(
        mother.id,
        RelationKind.MOTHER,
        True,
        "Свидетельство о рождении V-МЮ № 512345",
        child.birth_date,
    )
    with sessions() as s:
        view = add_relation(s, actor, child.id, data)
    assert (view.label, view.other_name, view.forward, view.other_phone) == (
        "мать",
        "Соколова Ирина Петровна",
        True,
        "+79161112233",
    )
    with sessions() as s:
        from_mother = list_relations(s, mother.id)
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "relation.add")).one()
    assert [(r.label, r.other_name, r.forward) for r in from_mother] == [
        ("сын", "Соколов Миша Андреевич", False)
    ]
    assert ev.patient_id == child.id


@pytest.mark.parametrize(
    ("who", "kind", "legal", "basis", "message"),
    [
        (
            "father",
            RelationKind.MOTHER,
            True,
            "",
            "Родственная связь: мать — женщина; проверьте пол или выберите «отец»",
        ),
        (
            "mother",
            RelationKind.FATHER,
            False,
            "",
            "Родственная связь: отец — мужчина; проверьте пол или выберите «мать»",
        ),
        (
            "child",
            RelationKind.MOTHER,
            False,
            "",
            "Родственник: пациент не может быть родственником самому себе",
        ),
        (
            "mother",
            RelationKind.GUARDIAN,
            True,
            "",
            "Документ-основание: для опекуна обязателен (акт органа опеки)",
        ),
        (
            "mother",
            RelationKind.SIBLING,
            True,
            "",
            "Законный представитель: только родитель, усыновитель, опекун или попечитель",
        ),
        ("mother", None, False, "", "Родственная связь: обязательное поле"),
        (
            "mother",
            RelationKind.MOTHER,
            False,
            "я" * 301,
            "Документ-основание: не длиннее 300 символов",
        ),
    ],
)
def test_relation_rules_name_field_and_rule(
    sessions: sessionmaker[Session],
    who: str,
    kind: RelationKind | None,
    legal: bool,
    basis: str,
    message: str,
) -> None:
    actor, child, mother, father = _family(sessions)
    rel = {"mother": mother, "father": father, "child": child}[who]
    with sessions() as s, pytest.raises(ValidationErrors) as info:
        add_relation(
            s, actor, child.id, RelationInput(rel.id, kind, legal, basis, child.birth_date)
        )
    assert message in _errors(info)
    with sessions() as s:
        assert list_relations(s, child.id) == []


def test_parent_cannot_be_younger_than_child_and_adult_needs_guardian(
    sessions: sessionmaker[Session],
) -> None:
    actor, child, mother, _ = _family(sessions)
    with sessions() as s, pytest.raises(ValidationErrors) as info:
        add_relation(
            s, actor, mother.id, RelationInput(child.id, RelationKind.FATHER, False, "", None)
        )
    assert "Родственник: родитель должен быть старше ребёнка не менее чем на 14 лет" in _errors(
        info
    )
    grandma = person(sessions, actor, "Соколова", "Вера", sex=Sex.FEMALE, birth=dt.date(1960, 1, 1))
    with sessions() as s, pytest.raises(ValidationErrors) as info:
        add_relation(
            s, actor, mother.id, RelationInput(grandma.id, RelationKind.MOTHER, True, "", None)
        )
    assert (
        "Законный представитель: родитель представляет только несовершеннолетнего; для взрослого — опекун"
        in _errors(info)
    )


def test_one_active_relation_per_pair_then_end_and_history(sessions: sessionmaker[Session]) -> None:
    actor, child, mother, _ = _family(sessions)
    data = RelationInput(mother.id, RelationKind.MOTHER, True, "", child.birth_date)
    with sessions() as s:
        view = add_relation(s, actor, child.id, data)
    with sessions() as s, pytest.raises(ValidationErrors) as info:
        add_relation(s, actor, child.id, data)
    assert "Родственник: связь с этим человеком уже есть; измените её" in _errors(info)
    with sessions() as s:
        ended = end_relation(s, actor, view.id, view.version_id, TODAY)
    assert ended.valid_to == TODAY
    assert not ended.active_on(TODAY + dt.timedelta(days=1))
    with sessions() as s, pytest.raises(ConflictError):
        end_relation(s, actor, view.id, view.version_id)  # stale version
    with sessions() as s:
        again = add_relation(s, actor, child.id, dataclasses.replace(data, valid_from=TODAY))
        both = list_relations(s, child.id)
    assert again.id != view.id
    assert len(both) == 2  # the ended one stays in history


def test_update_relation_with_stale_version_is_a_conflict(sessions: sessionmaker[Session]) -> None:
    actor, child, mother, _ = _family(sessions)
    with sessions() as s:
        view = add_relation(
            s, actor, child.id, RelationInput(mother.id, RelationKind.MOTHER, False, "", None)
        )
    with sessions() as s:
        newer = update_relation(
            s,
            actor,
            view.id,
            view.version_id,
            RelationInput(mother.id, RelationKind.MOTHER, True, "Свидетельство", child.birth_date),
        )
    assert newer.is_legal_representative
    assert newer.version_id == view.version_id + 1
    with sessions() as s, pytest.raises(ConflictError):
        update_relation(
            s,
            actor,
            view.id,
            view.version_id,
            RelationInput(mother.id, RelationKind.MOTHER, False, "", None),
        )
