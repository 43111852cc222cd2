"""Booking by referral from two workstations at once, on a real PostgreSQL.

The same machinery as the schedule's races (:mod:`tests.services.test_schedule_pg`): two
engines on one throw-away database, two threads released together, and forced rounds that
hold each workstation at a chosen statement.  A referral books one visit, whatever the two
registrars do; cancelling it on one workstation frees the slot for the other at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services import referrals, schedule
from services.audit import Actor
from services.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    ReferralKind,
    Staff,
    VisitType,
)
from services.referrals import ReferralInput, ReferralStatus
from tests.factories import open_day
from tests.services.test_schedule_pg import (
    BEFORE,
    INSERT_APPOINTMENT,
    SURNAMES,
    T0,
    Job,
    Polyclinic,
    only_conflicts,
    race,
)

pytestmark = pytest.mark.pg

ROUNDS = 10
LOCK_REFERRAL = r"\bFROM referral\b.*\bFOR UPDATE\b"


class Clinic(Polyclinic):
    """The polyclinic of the schedule races, with a cardiologist taking referrals."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        with self.sessions() as s:
            cardio = s.get(Staff, self.second_doctor.staff_id)
            assert cardio is not None
            cardio.specialty = "Кардиология"
            s.commit()
        self.cardio_id = self.second_doctor.staff_id or 0

    def referral(self, patient_id: int) -> int:
        inp = ReferralInput(
            ReferralKind.CONSULTATION, "I10", "АД 170/100 на терапии", "Кардиология"
        )
        with self.sessions() as s:
            (rid,) = referrals.issue(s, self.doctor_a, patient_id, [inp], now=BEFORE)
            return rid


@pytest.fixture
def clinic(fresh_pg_url: str) -> Iterator[Clinic]:
    c = Clinic(fresh_pg_url)
    yield c
    c.close()


def booking(actor: Actor, referral_id: int, slot_id: int) -> Callable[[Session], int]:
    def work(s: Session) -> int:
        return referrals.book(s, actor, referral_id, slot_id, BookingSource.REGISTRY, now=BEFORE)

    return work


@pytest.mark.parametrize(
    "hold",
    [None, LOCK_REFERRAL, INSERT_APPOINTMENT],
    ids=["free-race", "both-at-the-lock", "both-at-the-insert"],
)
def test_two_workstations_book_one_referral_into_two_slots_exactly_one_wins(
    clinic: Clinic, hold: str | None
) -> None:
    # Held at the insert, the second waits out the hold on the lock (3 s): fewer rounds.
    rounds = 3 if hold == INSERT_APPOINTMENT else ROUNDS
    slots = open_day(clinic.sessions, clinic.cardio_id, T0, 2 * rounds)
    for i in range(rounds):
        rid = clinic.referral(clinic.patient(SURNAMES[i]))
        outcomes = race(
            Job(clinic.a, booking(clinic.registrar_a, rid, slots[2 * i]), hold),
            Job(clinic.b, booking(clinic.registrar_b, rid, slots[2 * i + 1]), hold),
            # Both reach the lock; only one gets past it before the other's commit, so
            # they cannot both reach the insert: that hold is waited out, not met.
            must_meet=hold != INSERT_APPOINTMENT,
        )
        only_conflicts(outcomes)
        assert [o.ok for o in outcomes].count(True) == 1, outcomes
        loser = next(o for o in outcomes if not o.ok)
        assert "уже записан" in str(loser.error) or "только что записали" in str(loser.error)
        live = clinic.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.referral_id == rid,
                Appointment.status != AppointmentStatus.CANCELLED,
            )
        )
        assert live == 1
        with clinic.sessions() as s:
            assert referrals.get(s, rid, today=T0.date()).status == ReferralStatus.BOOKED


def test_cancelling_on_one_workstation_frees_the_slot_for_the_other(clinic: Clinic) -> None:
    (slot,) = open_day(clinic.sessions, clinic.cardio_id, T0, 1)
    rid = clinic.referral(clinic.patient("Абрамов"))
    other = clinic.patient("Борисов")
    with clinic.a.sessions() as s:
        referrals.book(s, clinic.registrar_a, rid, slot, BookingSource.REGISTRY, now=BEFORE)
    with clinic.b.sessions() as s:
        free = schedule.free_slots(s, clinic.cardio_id, BEFORE, T0 + dt.timedelta(hours=1))
        assert free == []
    with clinic.a.sessions() as s:
        referrals.cancel(s, clinic.doctor_a, rid, "Пациент госпитализирован", now=BEFORE)
    with clinic.b.sessions() as s:
        free = schedule.free_slots(s, clinic.cardio_id, BEFORE, T0 + dt.timedelta(hours=1))
        assert [r.slot_id for r in free] == [slot]
        schedule.book(
            s, clinic.registrar_b, slot, other, VisitType.FIRST, BookingSource.REGISTRY, now=BEFORE
        )
    with clinic.a.sessions() as s:
        assert referrals.get(s, rid, today=T0.date()).status == ReferralStatus.CANCELLED


def test_cancel_racing_a_booking_never_leaves_a_live_visit_on_a_cancelled_referral(
    clinic: Clinic,
) -> None:
    slots = open_day(clinic.sessions, clinic.cardio_id, T0, ROUNDS)
    for i, slot in enumerate(slots):
        rid = clinic.referral(clinic.patient(SURNAMES[-1 - i]))

        def cancelling(s: Session, rid: int = rid) -> None:
            referrals.cancel(s, clinic.doctor_b, rid, "ошибочно выписано", now=BEFORE)

        outcomes = race(
            Job(clinic.a, booking(clinic.registrar_a, rid, slot), LOCK_REFERRAL),
            Job(clinic.b, cancelling, LOCK_REFERRAL),
        )
        only_conflicts(outcomes)
        assert outcomes[1].ok  # a referral not yet used can always be cancelled
        live = clinic.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.referral_id == rid,
                Appointment.status != AppointmentStatus.CANCELLED,
            )
        )
        assert live == 0  # booked first and then cancelled with it, or refused
