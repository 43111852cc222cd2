"""«Доступ к ЭМК ребенка»: who may be given access, the code's life (hash, expiry, re-send,
5 tries), revocation, the 18th birthday, the outbox row in the grant's transaction, audit and
permissions — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services import child_access, relations
from services.audit import Actor
from services.child_access import CodeRejected, CodeStatus
from services.child_access_desk import ChildAccessDesk
from services.clock import clinic_tz, local_day, now_utc
from services.errors import AccessDenied, ConflictError, ValidationError, ValidationErrors
from services.models import (
    AuditEvent,
    ChildAccessGrant,
    Patient,
    RelationKind,
    Role,
    Sex,
    SmsMessage,
    SmsStatus,
)
from services.relations import RelationInput
from tests.factories import base_org, colleague, person

TODAY = local_day(now_utc())
NOW = dt.datetime.combine(TODAY, dt.time(10, 0), clinic_tz()).astimezone(dt.UTC)
MUM_PHONE = "+79161234567"


def years_ago(n: int, days: int = 0) -> dt.date:
    d = (
        TODAY.replace(year=TODAY.year - n)
        if not (TODAY.month == 2 and TODAY.day == 29)
        else (dt.date(TODAY.year - n, 2, 28))
    )
    return d - dt.timedelta(days=days)


class Family:
    """A child with a mother, a father, a grandmother, a guardian and a stranger."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.doctor, self.dept = base_org(sessions)
        self.registrar = colleague(sessions, self.dept, "Смирнова", Role.REGISTRAR)
        d = self.doctor
        self.child = person(
            sessions, d, "Кузнецов", "Артём", "Игоревич", sex=Sex.MALE, birth=years_ago(9)
        ).id
        self.mother = person(
            sessions, d, "Кузнецова", "Ольга", "Петровна", birth=dt.date(1988, 7, 1),
            phone=MUM_PHONE,
        ).id  # fmt: skip
        self.father = person(
            sessions, d, "Кузнецов", "Игорь", "Олегович", sex=Sex.MALE, birth=dt.date(1986, 1, 5)
        ).id
        self.granny = person(
            sessions, d, "Кузнецова", "Нина", "Ивановна", birth=dt.date(1960, 2, 2)
        ).id
        self.guardian = person(
            sessions, d, "Орлова", "Вера", "Сергеевна", birth=dt.date(1975, 4, 4)
        ).id
        self.stranger = person(sessions, d, "Чужих", "Пётр", sex=Sex.MALE).id
        self.relate(self.child, self.mother, RelationKind.MOTHER, legal=True)
        self.relate(self.child, self.father, RelationKind.FATHER)
        self.relate(self.child, self.granny, RelationKind.GRANDPARENT)
        self.relate(self.child, self.guardian, RelationKind.GUARDIAN, legal=True, basis="Акт № 5")

    def relate(
        self,
        child: int,
        rel: int,
        kind: RelationKind,
        *,
        legal: bool = False,
        basis: str = "",
        since: dt.date = dt.date(2020, 1, 1),
    ) -> int:
        with self.sessions() as s:
            view = relations.add_relation(
                s,
                self.doctor,
                child,
                RelationInput(
                    relative_id=rel,
                    kind=kind,
                    is_legal_representative=legal,
                    basis_document=basis,
                    valid_from=since,
                ),
            )
            return view.id

    def send(
        self,
        relative: int | None = None,
        phone: str = MUM_PHONE,
        signed: bool = True,
        *,
        child: int | None = None,
        now: dt.datetime = NOW,
        actor: Actor | None = None,
    ) -> child_access.GrantRow:
        with self.sessions() as s:
            return child_access.send_code(
                s,
                actor or self.registrar,
                child or self.child,
                self.mother if relative is None else relative,
                phone,
                signed,
                now=now,
            )

    def outbox(self) -> list[SmsMessage]:
        with self.sessions() as s:
            return list(s.scalars(select(SmsMessage).order_by(SmsMessage.id)))

    def code(self, msg: SmsMessage | None = None) -> str:
        msg = msg or self.outbox()[-1]
        digits = [w.strip(".") for w in msg.body.split() if w.strip(".").isdigit()]
        assert digits, msg.body
        return digits[0]

    def redeem(self, code: str, phone: str = MUM_PHONE, now: dt.datetime = NOW) -> int:
        with self.sessions() as s:
            return child_access.redeem(s, phone, code, now=now).grant_id

    def check(self, grant_id: int, now: dt.datetime = NOW) -> bool:
        with self.sessions() as s:
            return child_access.check(s, grant_id, now=now)

    def history(self, now: dt.datetime = NOW) -> list[child_access.GrantRow]:
        with self.sessions() as s:
            return child_access.history(s, self.child, now)

    def events(self, action: str) -> int:
        with self.sessions() as s:
            return (
                s.scalar(
                    select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
                )
                or 0
            )


@pytest.fixture
def fam(sessions: sessionmaker[Session]) -> Family:
    return Family(sessions)


def messages(exc: pytest.ExceptionInfo[ValidationErrors]) -> list[str]:
    return [str(e) for e in exc.value.errors]


# --- the form ------------------------------------------------------------------------------
def test_form_lists_the_family_with_who_may_get_access(fam: Family) -> None:
    with fam.sessions() as s:
        f = child_access.form(s, fam.child, NOW)
    assert f.child.refusal == ""
    assert f.child.age == 9
    assert f.child.adult_on == years_ago(9).replace(year=years_ago(9).year + 18)
    by_name = {c.full_name: c for c in f.candidates}
    assert by_name["Кузнецова Ольга Петровна"].refusal == ""
    assert by_name["Кузнецова Ольга Петровна"].phone == MUM_PHONE
    assert by_name["Кузнецов Игорь Олегович"].refusal == ""  # a parent needs no flag
    assert by_name["Орлова Вера Сергеевна"].refusal == ""
    assert "не родитель и не законный представитель" in by_name["Кузнецова Нина Ивановна"].refusal
    assert "Чужих Пётр" not in by_name
    assert f.history == []


def test_from_fifteen_the_registrar_is_told_the_child_may_hold_own_access(fam: Family) -> None:
    teen = person(fam.sessions, fam.doctor, "Юный", "Олег", sex=Sex.MALE, birth=years_ago(15)).id
    with fam.sessions() as s:
        young = child_access.form(s, fam.child, NOW).child
        older = child_access.form(s, teen, NOW).child
    assert young.self_access_note == ""
    assert older.may_hold_own_access
    assert "с 15 лет он может сам получить доступ" in older.self_access_note


# --- giving access -------------------------------------------------------------------------
def test_send_code_grants_access_and_queues_the_sms_in_one_transaction(fam: Family) -> None:
    row = fam.send()
    assert row.status == CodeStatus.QUEUED
    assert row.relation_label == "мать"
    assert row.phone == MUM_PHONE
    assert row.ends_on == fam.history()[0].ends_on
    (msg,) = fam.outbox()
    assert msg.phone == MUM_PHONE
    assert msg.status == SmsStatus.PENDING
    assert msg.purpose == "child_access"
    code = fam.code(msg)
    assert len(code) == 6
    with fam.sessions() as s:
        g = s.get(ChildAccessGrant, row.id)
        assert g is not None
        assert code not in g.code_hash  # only the salted hash is kept
        assert g.code_hash.startswith("scrypt$")
        assert child_access.verify_code(code, g.code_hash)
        assert g.code_expires_at == NOW + child_access.DEFAULT_CODE_TTL
        assert g.granted_by == fam.registrar.staff_id
    assert fam.events("child_access.grant") == 1


def test_every_broken_rule_is_named_and_nothing_is_written(fam: Family) -> None:
    with pytest.raises(ValidationErrors) as exc:
        fam.send(fam.granny, phone="8 495 123-45-67", signed=False)
    assert messages(exc) == [
        "ФИО родственника: бабушка / дедушка — не родитель и не законный представитель: "
        "доступ дают родителям, усыновителям, опекунам и попечителям",
        "Телефон: должен быть мобильным номером России",
        "Заявка: отметьте, что заявка на предоставление доступа подписана — без подписанной "
        "заявки код не отправляют",
    ]
    assert fam.outbox() == []
    assert fam.history() == []


@pytest.mark.parametrize(
    ("phone", "rule"),
    [
        ("", "Телефон: обязательное поле"),
        ("+7 916 ABC-DE-FG", "Телефон: номер из 11 цифр"),
        ("9" * 5000, "Телефон: номер из 11 цифр"),
        ("+1 202 555 0100", "Телефон: должен быть мобильным номером России"),
    ],
)
def test_the_phone_must_be_a_russian_mobile(fam: Family, phone: str, rule: str) -> None:
    with pytest.raises(ValidationErrors) as exc:
        fam.send(phone=phone)
    assert messages(exc)[0].startswith(rule)


def test_only_relatives_of_this_child_may_be_given_access(fam: Family) -> None:
    with pytest.raises(ValidationErrors) as exc:
        fam.send(fam.stranger)
    assert messages(exc) == [
        "ФИО родственника: этого человека нет в родственных связях ребенка — добавьте связь"
    ]
    with fam.sessions() as s, pytest.raises(ValidationErrors) as exc:
        child_access.send_code(s, fam.registrar, fam.child, None, MUM_PHONE, True, now=NOW)
    assert messages(exc) == ["ФИО родственника: выберите родственника из списка"]


def test_a_minor_parent_is_refused(fam: Family) -> None:
    young_mum = person(fam.sessions, fam.doctor, "Молодая", "Анна", birth=years_ago(17)).id
    baby = person(
        fam.sessions, fam.doctor, "Молодой", "Иван", sex=Sex.MALE, birth=years_ago(0, 30)
    ).id
    fam.relate(baby, young_mum, RelationKind.MOTHER, legal=True, since=TODAY)
    with pytest.raises(ValidationErrors) as exc:
        fam.send(young_mum, child=baby)
    assert messages(exc) == ["ФИО родственника: доступ получает только совершеннолетний"]


def test_an_adult_or_uninsured_child_is_refused(fam: Family) -> None:
    with fam.sessions() as s:
        child = s.get(Patient, fam.child)
        assert child is not None
        child.birth_date = years_ago(18)
        s.commit()
    with pytest.raises(ValidationErrors) as exc:
        fam.send()
    assert messages(exc)[0].startswith("Пациент: Пациенту 18 лет: доступ к ЭМК ребенка дают")
    with fam.sessions() as s:
        child = s.get(Patient, fam.child)
        assert child is not None
        child.birth_date = years_ago(10)
        child.policy_number = None
        s.commit()
    with pytest.raises(ValidationErrors) as exc:
        fam.send()
    assert messages(exc)[0].startswith("Пациент: У ребенка нет полиса ОМС")


def test_an_ended_relation_gives_no_access(fam: Family) -> None:
    with fam.sessions() as s:
        rel = next(r for r in relations.list_relations(s, fam.child) if r.other_id == fam.guardian)
        relations.end_relation(s, fam.doctor, rel.id, rel.version_id, TODAY - dt.timedelta(1))
    with pytest.raises(ValidationErrors) as exc:
        fam.send(fam.guardian)
    assert "нет в родственных связях" in messages(exc)[0]


def test_access_ends_on_the_eighteenth_birthday(fam: Family) -> None:
    leap = person(
        fam.sessions, fam.doctor, "Високосный", "Лев", sex=Sex.MALE, birth=dt.date(2012, 2, 29)
    ).id
    fam.relate(leap, fam.mother, RelationKind.MOTHER, legal=True)
    row = fam.send(child=leap)
    assert row.ends_on == dt.date(2030, 3, 1)  # 29 February → 1 March in a common year
    grant = fam.redeem(fam.code())
    eve = dt.datetime.combine(dt.date(2030, 2, 28), dt.time(23, 0), clinic_tz())
    assert fam.check(grant, now=eve)
    assert not fam.check(grant, now=eve + dt.timedelta(hours=2))


# --- the code ------------------------------------------------------------------------------
def test_the_code_is_redeemed_once_and_opens_access(fam: Family) -> None:
    row = fam.send()
    code = fam.code()
    assert not fam.check(row.id)  # not before the parent has entered it
    assert fam.redeem(code, phone="8 (916) 123-45-67") == row.id  # any spelling of the number
    assert fam.check(row.id)
    assert fam.history()[0].status == CodeStatus.USED
    with pytest.raises(CodeRejected, match="нет действующего кода"):
        fam.redeem(code)
    assert fam.events("child_access.redeem") == 1


def test_five_wrong_tries_lock_the_code(fam: Family) -> None:
    row = fam.send()
    code = fam.code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeRejected, match=f"Осталось попыток: {left}"):
            fam.redeem(wrong)
    with pytest.raises(CodeRejected, match="заблокирован после 5 неверных попыток"):
        fam.redeem("x" * 10_000)  # garbage counts as a try too
    with pytest.raises(CodeRejected, match="заблокирован"):
        fam.redeem(code)  # the right code no longer helps
    assert not fam.check(row.id)
    assert fam.history()[0].status == CodeStatus.LOCKED
    assert fam.events("child_access.locked") == 1
    # A re-send gives a fresh code and fresh tries.
    fam.send()
    assert fam.redeem(fam.code()) == row.id


def test_an_expired_code_fails(fam: Family) -> None:
    fam.send()
    later = NOW + child_access.DEFAULT_CODE_TTL + dt.timedelta(seconds=1)
    assert fam.history(later)[0].status == CodeStatus.EXPIRED
    with pytest.raises(CodeRejected, match="Срок действия кода истёк"):
        fam.redeem(fam.code(), now=later)


def test_a_resend_replaces_the_code_and_cancels_the_unsent_sms(fam: Family) -> None:
    first = fam.send()
    old = fam.code()
    second = fam.send(phone="+7 903 111-22-33")
    assert second.id == first.id  # one live grant per relative
    old_msg, new_msg = fam.outbox()
    assert old_msg.status == SmsStatus.CANCELLED
    assert old not in old_msg.body  # the dead code is wiped from the outbox
    assert new_msg.phone == "+79031112233"
    with pytest.raises(CodeRejected):
        fam.redeem(old, phone="+79031112233")
    with pytest.raises(CodeRejected):
        fam.redeem(fam.code(new_msg), phone=MUM_PHONE)  # the old number no longer works
    assert fam.redeem(fam.code(new_msg), phone="+79031112233") == first.id
    assert fam.events("child_access.resend") == 1


def test_two_children_on_one_phone_each_have_their_code(fam: Family) -> None:
    sister = person(fam.sessions, fam.doctor, "Кузнецова", "Лиза", birth=years_ago(5)).id
    fam.relate(sister, fam.mother, RelationKind.MOTHER, legal=True)
    a = fam.send()
    code_a = fam.code()
    b = fam.send(child=sister)
    code_b = fam.code()
    assert fam.redeem(code_b) == b.id
    assert fam.redeem(code_a) == a.id


# --- revocation ----------------------------------------------------------------------------
def test_revocation_needs_a_reason_ends_access_and_keeps_the_history(fam: Family) -> None:
    row = fam.send()
    grant = fam.redeem(fam.code())
    with fam.sessions() as s:
        with pytest.raises(ValidationError, match="укажите причину отзыва права доступа"):
            child_access.revoke(s, fam.registrar, row.id, "   ")
        with pytest.raises(ValidationError, match="не длиннее 300"):
            child_access.revoke(s, fam.registrar, row.id, "я" * 301)
        ended = child_access.revoke(s, fam.registrar, row.id, "Лишена родительских прав")
    assert ended.status == CodeStatus.REVOKED
    assert not fam.check(grant)
    (hist,) = fam.history()
    assert hist.revoke_reason == "Лишена родительских прав"
    assert hist.ended_at is not None
    with fam.sessions() as s, pytest.raises(ConflictError, match="уже отозван"):
        child_access.revoke(s, fam.registrar, row.id, "ещё раз")
    assert fam.events("child_access.revoke") == 1
    # A new grant may follow; the old row stays.
    again = fam.send()
    assert again.id != row.id
    assert [h.status for h in fam.history()] == [CodeStatus.QUEUED, CodeStatus.REVOKED]


def test_revoking_before_the_code_is_used_kills_the_code(fam: Family) -> None:
    row = fam.send()
    code = fam.code()
    with fam.sessions() as s:
        child_access.revoke(s, fam.registrar, row.id, "Ошибка в номере телефона")
    assert fam.outbox()[0].status == SmsStatus.CANCELLED
    with pytest.raises(CodeRejected):
        fam.redeem(code)


# --- the paper, the desk -------------------------------------------------------------------
def test_application_data_for_the_paper(fam: Family) -> None:
    with fam.sessions() as s:
        app = child_access.application_data(s, fam.child, fam.mother, "8 903 111 22 33", TODAY)
        assert app.child_name == "Кузнецов Артём Игоревич"
        assert app.relative_name == "Кузнецова Ольга Петровна"
        assert app.relation_label == "мать"
        assert app.phone == "+7 903 111-22-33"  # the number typed in the form wins
        assert app.organisation == "ГБУЗ «ГП № 1»"
        assert app.copy_no == 1
        assert child_access.application_data(s, fam.child, fam.mother).phone == "+7 916 123-45-67"
        with pytest.raises(ValidationErrors, match="не родитель"):
            child_access.application_data(s, fam.child, fam.granny)


def test_the_desk_is_the_registrars_and_not_the_radiologists(fam: Family) -> None:
    desk = ChildAccessDesk(fam.sessions, fam.registrar, code_ttl=dt.timedelta(minutes=5))
    row = desk.send_code(fam.child, fam.mother, MUM_PHONE, True)
    assert row.code_expires_at - row.granted_at == dt.timedelta(minutes=5)
    assert [h.id for h in desk.form(fam.child).history] == [row.id]
    radiologist = colleague(fam.sessions, fam.dept, "Рентгенов", Role.RADIOLOGIST)
    with pytest.raises(AccessDenied):
        ChildAccessDesk(fam.sessions, radiologist).form(fam.child)
    with pytest.raises(AccessDenied):
        ChildAccessDesk(fam.sessions, radiologist).revoke(row.id, "нет")
