"""Referrals: issue, the lifecycle and its illegal moves, expiry, cancellation freeing the slot,
the imaging worklist and the print data — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services import referrals, schedule, visits
from services.audit import Actor
from services.clock import clinic_tz, local_day, now_utc
from services.errors import AccessDenied, ConflictError, ValidationError, ValidationErrors
from services.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    BookingSource,
    DocKind,
    EmkDocument,
    Patient,
    Referral,
    ReferralKind,
    Role,
    Staff,
    VisitType,
)
from services.printouts import PrintJob, archive
from services.referral_desk import ReferralDesk
from services.referrals import ReferralInput, ReferralStatus
from services.visits import Move
from tests.factories import base_org, colleague, open_day, person

K = ReferralKind
St = ReferralStatus
DAY = local_day(now_utc())  # the desk works on the real clock; the rest is pinned to DAY
NOW = dt.datetime.combine(DAY, dt.time(8, 0), clinic_tz()).astimezone(dt.UTC)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), clinic_tz()).astimezone(dt.UTC)


class World:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.doctor, self.dept = base_org(sessions)
        self.cardio = self._specialist("Павлова", "Кардиология", Role.DOCTOR)
        self.radio = self._specialist("Достоевский", "Рентгенология", Role.RADIOLOGIST)
        self.registrar = colleague(sessions, self.dept, "Смирнова", Role.REGISTRAR)
        self.patient = person(sessions, self.doctor, "Иванова", "Мария", "Петровна").id
        self.other = person(sessions, self.doctor, "Петров", "Олег").id
        # Tomorrow's and the week after next's slots of the cardiologist and the radiologist.
        self.cardio_slots = open_day(sessions, self.cardio.staff_id, at(DAY + dt.timedelta(1)), 4)
        self.late_slots = open_day(sessions, self.cardio.staff_id, at(DAY + dt.timedelta(40)), 2)
        self.radio_slots = open_day(sessions, self.radio.staff_id, at(DAY + dt.timedelta(2)), 4)

    def _specialist(self, surname: str, specialty: str, role: Role) -> Actor:
        actor = colleague(self.sessions, self.dept, surname, role)
        with self.sessions() as s:
            st = s.get(Staff, actor.staff_id)
            assert st is not None
            st.specialty = specialty
            st.position = f"Врач ({specialty.lower()})"
            s.commit()
        return actor

    def issue(self, *inputs: ReferralInput, now: dt.datetime = NOW) -> list[int]:
        with self.sessions() as s:
            return referrals.issue(s, self.doctor, self.patient, inputs, now=now)

    def row(self, rid: int, today: dt.date = DAY) -> referrals.ReferralRow:
        with self.sessions() as s:
            return referrals.get(s, rid, today=today)

    def book(self, rid: int, slot: int, now: dt.datetime = NOW) -> int:
        with self.sessions() as s:
            return referrals.book(s, self.doctor, rid, slot, BookingSource.DOCTOR, now=now)


CARDIO = ReferralInput(
    K.CONSULTATION, "I10", "Стойкое повышение АД до 170/100 на фоне терапии", "Кардиология"
)
CT = ReferralInput(
    K.IMAGING, "J18.9", "Пневмония? Рентгенография неинформативна", service_code="A06.09.005"
)


@pytest.fixture
def w(sessions: sessionmaker[Session]) -> World:
    return World(sessions)


def test_several_referrals_at_once_each_with_its_emk_document(w: World) -> None:
    ids = w.issue(CARDIO, CT)
    rows = [w.row(i) for i in ids]
    assert [r.status for r in rows] == [St.ISSUED, St.ISSUED]
    assert rows[0].purpose == "консультация: кардиология"
    assert rows[0].valid_until == DAY + dt.timedelta(30)
    assert rows[1].purpose == "Компьютерная томография органов грудной полости"
    assert rows[1].modality == "CT"
    assert rows[1].target_specialty == "Рентгенология"
    assert rows[0].number == f"{DAY.year}-{ids[0]:07d}"
    assert rows[0].number != rows[1].number
    with w.sessions() as s:
        docs = s.scalars(
            select(EmkDocument).where(EmkDocument.kind == DocKind.REFERRAL).order_by(EmkDocument.id)
        ).all()
        assert [d.id for d in docs] == [r.document_id for r in rows]
        assert rows[0].number in docs[0].title
        assert "I10" in docs[0].search_text.upper()
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action == "referral.issue"))
        assert len(list(actions)) == 2


def test_a_broken_referral_in_the_batch_stores_nothing_and_names_every_rule(w: World) -> None:
    bad = ReferralInput(
        K.IMAGING, "Z99.99", " ", service_code="A05.10.006", valid_until=DAY + dt.timedelta(61)
    )
    with pytest.raises(ValidationErrors) as e:
        w.issue(CARDIO, bad)
    text = str(e.value)
    assert "Направление 2: Диагноз" in text or "Направление 2: МКБ" in text, text
    assert "Направление 2: Обоснование: обязательное поле" in text
    assert "это не лучевая диагностика" in text
    assert "не дольше 60 дней" in text
    with w.sessions() as s:
        assert s.scalar(select(func.count(Referral.id))) == 0
        assert s.scalar(select(func.count(EmkDocument.id))) == 0


@pytest.mark.parametrize(
    ("inp", "field", "rule"),
    [
        (ReferralInput(K.CONSULTATION, "I10", "ok"), "Специальность", "к какому специалисту"),
        (ReferralInput(K.LAB, "I10", "ok"), "Услуга", "выберите услугу"),
        (ReferralInput(K.HOSPITALISATION, "I10", "ok"), "Куда направлен", "укажите стационар"),
        (ReferralInput(K.CONSULTATION, "I10", "x" * 801, "Кардиология"), "Обоснование", "800"),
        (
            ReferralInput(
                K.CONSULTATION, "I10", "ok", "Кардиология", valid_until=DAY - dt.timedelta(1)
            ),
            "Действительно до",
            "не раньше даты выдачи",
        ),
        (ReferralInput(K.CONSULTATION, "G94.3", "ok", "Неврология"), "Диагноз", "основн"),
        (ReferralInput(K.CONSULTATION, "I", "ok", "Неврология"), "Диагноз", "класс"),
    ],
)
def test_each_rule_names_its_field(inp: ReferralInput, field: str, rule: str) -> None:
    with pytest.raises(ValidationErrors) as e:
        referrals.validate(inp, DAY)
    assert any(x.field.startswith(field[:7]) and rule in x.rule for x in e.value.errors), e.value


def test_no_policy_no_referral(w: World) -> None:
    with w.sessions() as s:
        p = s.get(Patient, w.patient)
        assert p is not None
        p.policy_number = None
        s.commit()
    with pytest.raises(ValidationErrors, match="Полис ОМС"):
        w.issue(CARDIO)


def test_lifecycle_issued_booked_used_and_its_illegal_moves(w: World) -> None:
    (rid,) = w.issue(CARDIO)
    appt = w.book(rid, w.cardio_slots[0])
    row = w.row(rid)
    assert row.status == St.BOOKED
    assert row.appointment_id == appt
    assert row.booked_with.startswith("Павлова")
    with w.sessions() as s:
        a = s.get(Appointment, appt)
        assert a is not None
        assert a.visit_type == VisitType.REFERRAL
        assert a.referral_id == rid
    # Booked twice: refused, whichever slot.
    with pytest.raises(ConflictError, match="уже записан"):
        w.book(rid, w.cardio_slots[1])
    # The cardiologist's day shows the visit «по направлению» with its number.
    with w.sessions() as s:
        day = schedule.day_rows(s, w.cardio.staff_id or 0, DAY + dt.timedelta(1))
    booked = next(r for r in day if r.appointment_id == appt)
    assert booked.referral_number == row.number
    assert all(r.referral_number is None for r in day if r.appointment_id != appt)
    # The visit happens: the referral is used, and can no longer be cancelled or booked.
    visit_at = at(DAY + dt.timedelta(1)) + dt.timedelta(minutes=1)
    with w.sessions() as s:
        visits.move(s, w.cardio, appt, Move.START, now=visit_at)
    assert w.row(rid, DAY + dt.timedelta(1)).status == St.USED
    with pytest.raises(ConflictError, match="использовано"):
        with w.sessions() as s:
            referrals.cancel(s, w.doctor, rid, "ошибка", now=visit_at)
    with pytest.raises(ConflictError, match="использовано"):
        w.book(rid, w.cardio_slots[2], now=visit_at)


def test_cancelling_a_booked_referral_frees_the_slot_for_someone_else(w: World) -> None:
    (rid,) = w.issue(CARDIO)
    appt = w.book(rid, w.cardio_slots[0])
    with w.sessions() as s, pytest.raises(ValidationError, match="обязательное поле"):
        referrals.cancel(s, w.doctor, rid, "   ", now=NOW)
    with w.sessions() as s:
        referrals.cancel(s, w.doctor, rid, "Пациент передумал", now=NOW)
    row = w.row(rid)
    assert row.status == St.CANCELLED
    assert row.cancel_reason == "Пациент передумал"
    with w.sessions() as s:
        a = s.get(Appointment, appt)
        assert a is not None
        assert a.status == AppointmentStatus.CANCELLED
        assert "аннулировано: Пациент передумал" in a.cancel_reason
        free = schedule.free_slots(s, w.cardio.staff_id, NOW, at(DAY + dt.timedelta(2)))
        assert w.cardio_slots[0] in [r.slot_id for r in free]
        schedule.book(
            s,
            w.registrar,
            w.cardio_slots[0],
            w.other,
            VisitType.FIRST,
            BookingSource.REGISTRY,
            now=NOW,
        )
    with pytest.raises(ConflictError, match="аннулировано"):
        w.book(rid, w.cardio_slots[1])
    with w.sessions() as s, pytest.raises(ConflictError, match="уже аннулировано"):
        referrals.cancel(s, w.doctor, rid, "ещё раз", now=NOW)


def test_a_cancelled_or_missed_visit_leaves_the_referral_to_book_again(w: World) -> None:
    (rid,) = w.issue(CARDIO)
    appt = w.book(rid, w.cardio_slots[0])
    with w.sessions() as s:
        visits.move(s, w.registrar, appt, Move.CANCEL, cancel_reason="перенос", now=NOW)
    assert w.row(rid).status == St.ISSUED
    appt2 = w.book(rid, w.cardio_slots[1])
    later = at(DAY + dt.timedelta(1), 12)
    with w.sessions() as s:
        visits.move(s, w.registrar, appt2, Move.NO_SHOW, now=later)
    assert w.row(rid, later.date()).status == St.ISSUED
    w.book(rid, w.cardio_slots[3], now=NOW)
    assert w.row(rid).status == St.BOOKED


def test_expiry_by_date(w: World) -> None:
    lab = ReferralInput(K.LAB, "E11.9", "Контроль гликемии", service_code="A09.05.083")
    (rid,) = w.issue(lab)
    row = w.row(rid)
    assert row.valid_until == DAY + dt.timedelta(14)
    assert w.row(rid, DAY + dt.timedelta(14)).status == St.ISSUED
    assert w.row(rid, DAY + dt.timedelta(15)).status == St.EXPIRED
    (cid,) = w.issue(CARDIO)
    # A slot after the referral's last day is refused; so is any booking once it has expired.
    with pytest.raises(ValidationError, match="позже срока действия"):
        w.book(cid, w.late_slots[0])
    expired_now = at(DAY + dt.timedelta(31))
    with pytest.raises(ConflictError, match="истёк"):
        w.book(cid, w.late_slots[0], now=expired_now)
    with w.sessions() as s, pytest.raises(ConflictError, match="истёк"):
        referrals.booking_slots(s, cid, now=expired_now)


def test_booking_offers_only_the_target_specialty_within_validity(w: World) -> None:
    (rid,) = w.issue(CARDIO)
    with w.sessions() as s:
        offered = referrals.booking_slots(s, rid, now=NOW)
    assert [b.slot_id for b in offered] == w.cardio_slots  # not the late ones, not radiology
    with pytest.raises(ValidationError, match="Кардиология"):
        w.book(rid, w.radio_slots[0])


def test_imaging_referral_lands_on_the_radiology_worklist(w: World) -> None:
    plain, cito = w.issue(
        CT,
        ReferralInput(K.IMAGING, "S82.00", "Травма, отёк", service_code="A06.03.036", cito=True),
    )
    w.issue(CARDIO)
    w.book(plain, w.radio_slots[1])
    with w.sessions() as s:
        rows = referrals.imaging_worklist(s, DAY, DAY + dt.timedelta(3), today=DAY)
    assert [r.id for r in rows] == [cito, plain]  # CITO first; the consultation is not there
    assert rows[0].modality == "DX"
    assert rows[1].status == St.BOOKED
    assert rows[1].booked_at == at(DAY + dt.timedelta(2)) + dt.timedelta(minutes=15)


def test_print_data_and_duplicates(w: World) -> None:
    (rid,) = w.issue(CARDIO)
    with w.sessions() as s:
        data = referrals.print_data(s, rid)
    assert data.copy_no == 1
    assert data.patient_name == "Иванова Мария Петровна"
    assert data.sex == 2
    assert data.diagnosis.startswith("I10 ")
    assert "гипертенз" in data.diagnosis.lower()
    assert data.ogrn == "1027700000001"
    assert data.residence.street == "ул. Профсоюзная"
    assert data.residence.house == "1"
    assert data.locality_type == 1
    assert data.purpose == "консультация: кардиология"
    assert data.care_form == 3
    job = PrintJob(w.patient, "057/у", "Направление", "referral", rid, data.document_id, 1, b"%PDF")
    with w.sessions() as s:
        archive(s, w.doctor, job)
        assert referrals.print_data(s, rid).copy_no == 2
    with w.sessions() as s, pytest.raises(ConflictError, match="Дубликат"):
        archive(s, w.doctor, job)  # the same copy number again: another workstation won


def test_split_address_keeps_every_word() -> None:
    a = referrals.split_address("г. Москва, ул. Профсоюзная, д. 12, корп. 2, кв. 45")
    assert (a.subject, a.locality, a.street, a.house, a.building, a.apartment) == (
        "г. Москва",
        "г. Москва",
        "ул. Профсоюзная",
        "12",
        "2",
        "45",
    )
    odd = referrals.split_address("Московская обл., Одинцовский р-н, пос. Лесной, Садовая 5, кв. 3")
    assert odd.subject == "Московская обл."
    assert odd.district == "Одинцовский р-н"
    assert odd.locality == "пос. Лесной"
    assert "Садовая 5" in odd.street
    assert odd.apartment == "3"


def test_the_desk_checks_who_may_do_what(w: World) -> None:
    registrar = ReferralDesk(w.sessions, w.registrar)
    with pytest.raises(AccessDenied):
        registrar.issue(w.patient, [CARDIO])
    doctor = ReferralDesk(w.sessions, w.doctor)
    (row,) = doctor.issue(w.patient, [CARDIO])
    with pytest.raises(AccessDenied):
        registrar.of_patient(w.patient)  # the list shows diagnoses: the record's content
    assert registrar.get(row.id).status == St.ISSUED  # but the registrar books by it
    slots = registrar.booking_slots(row.id)
    assert registrar.book(row.id, slots[0].slot_id, BookingSource.REGISTRY).status == St.BOOKED
