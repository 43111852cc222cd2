"""Two workstations racing on a real PostgreSQL: booking, starting and marking visits.

Each test has a database of its own (``fresh_pg_url``) and two engines on it — two
workstations whose commits the other sees.  Two threads meet at a :class:`threading.Barrier`
and call the service at the same moment; the result is judged by what the database holds
afterwards, not only by which call raised.

A free race does not always overlap the dangerous window (both past the checks, neither
committed), so the ``forced`` rounds make it certain: each workstation's engine holds its
thread at a chosen SQL statement until the other one has reached its own (see
:class:`Workstation.hold_at`).  A test that expects a conflict then checks it came through
the path it was meant to (the unique index, the patient lock).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services import schedule, visits, walk_ins
from services.audit import Actor
from services.clock import clinic_tz
from services.db import create_db_engine, make_session_factory
from services.errors import ConflictError
from services.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    BookingSource,
    Encounter,
    Role,
    VisitType,
    WalkIn,
    WalkInPriority,
    WalkInStatus,
)
from services.models import Workstation as WorkstationRow
from services.visits import Move
from tests.factories import base_org, colleague, open_day, person

pytestmark = pytest.mark.pg

S = AppointmentStatus
DAY = dt.date(2026, 11, 23)
T0 = dt.datetime.combine(DAY, dt.time(9, 0), clinic_tz()).astimezone(dt.UTC)
BEFORE = T0 - dt.timedelta(hours=10)  # bookings are made the evening before
ROUNDS = 20
# Seconds a forced race waits at its statement for the other workstation.  Where the two
# must meet, long: 3 s once fell short in CI under load (meeting takes milliseconds).  Where
# a correct service serialises them on a lock (they cannot meet), short: it is waited out.
MEET_TIMEOUT = 15
SERIALISED_TIMEOUT = 3
SURNAMES = (
    "Абрамов Борисов Васильев Григорьев Данилов Егоров Жуков Зайцев Ильин Карпов "
    "Лебедев Морозов Новиков Орлов Павлов Романов Соколов Тихонов Уваров Фёдоров"
).split()


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


# --- two workstations -------------------------------------------------------------------------
class Workstation:
    """An engine of its own (its own connection pool), as a second PC has."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_db_engine(url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.integrity_errors = 0  # seen by the driver, whatever the service made of them
        self._hold: tuple[re.Pattern[str], threading.Barrier] | None = None
        self._timeout: float = MEET_TIMEOUT
        self.held = False
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "handle_error", self._on_error)
        with self.engine.connect():  # a warm pool: the race starts at the first statement
            pass

    def hold_at(
        self,
        pattern: str | None,
        rendezvous: threading.Barrier | None,
        timeout: float = MEET_TIMEOUT,
    ) -> None:
        """Before the first statement matching ``pattern``, wait for the other workstation."""
        self.held = False
        self._hold = None
        if pattern is not None and rendezvous is not None:
            self._hold = (re.compile(pattern, re.I | re.S), rendezvous)
        self._timeout = timeout

    def _before(self, _conn: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if self._hold is not None and self._hold[0].search(statement):
            rendezvous = self._hold[1]
            self._hold = None
            try:
                rendezvous.wait(timeout=self._timeout)
                self.held = True
            except threading.BrokenBarrierError:
                # The other one never got there (refused earlier, or queued on a lock this one
                # holds): go on alone; ``race`` decides whether that was allowed.
                pass

    def _on_error(self, context: Any) -> None:
        if isinstance(context.sqlalchemy_exception, IntegrityError):
            self.integrity_errors += 1

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Job:
    ws: Workstation
    work: Callable[[Session], Any]
    hold_at: str | None = None  # regex of the statement to meet the other job at (forced)
    outcome: Outcome = field(default_factory=Outcome)


def race(*jobs: Job, must_meet: bool = True) -> list[Outcome]:
    """Run the jobs in threads that start together; with ``hold_at`` they also meet there.

    ``must_meet``: fail unless every held job really met the other at its statement (the
    interleaving the test is about happened); off where a correct service may serialise the
    two earlier, on a lock, so that they cannot meet.
    """
    start = threading.Barrier(len(jobs))
    forced = [j for j in jobs if j.hold_at]
    rendezvous = threading.Barrier(len(forced)) if forced else None
    for j in jobs:
        j.ws.hold_at(j.hold_at, rendezvous, MEET_TIMEOUT if must_meet else SERIALISED_TIMEOUT)
        j.outcome = Outcome()

    def run(job: Job) -> None:
        try:
            start.wait(timeout=10)
            with job.ws.sessions() as s:
                job.outcome.value = job.work(s)
        except BaseException as exc:  # noqa: BLE001 — judged by the test
            job.outcome.error = exc
        finally:
            if job.hold_at and rendezvous is not None:
                rendezvous.abort()  # done: whoever still waits for this one, stop waiting

    threads = [threading.Thread(target=run, args=(j,), daemon=True) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a workstation hangs (a deadlock?)"
    for j in jobs:
        held = j.ws.held
        j.ws.hold_at(None, None)
        if j.hold_at and must_meet:
            assert held, f"the forced race never met at «{j.hold_at}»: {j.outcome}"
    return [j.outcome for j in jobs]


def only_conflicts(outcomes: list[Outcome]) -> None:
    """Every failure is a ConflictError: never an IntegrityError, a deadlock or a hang."""
    for o in outcomes:
        if o.error is not None and not isinstance(o.error, ConflictError):
            raise AssertionError(f"not a ConflictError: {o.error!r}") from o.error


# --- the polyclinic ---------------------------------------------------------------------------
class Polyclinic:
    """Two doctors, two registrars, two workstations on a database of the test's own."""

    def __init__(self, url: str) -> None:
        self.engine = create_db_engine(url)
        self.sessions = make_session_factory(self.engine)
        doctor, self.dept = base_org(self.sessions)
        with self.sessions.begin() as s:
            ws_b = WorkstationRow(code="ws-b", name="АРМ, каб. 305")
            s.add(ws_b)
            s.flush()
            ws_b_id = ws_b.id
        # The same doctor signed in on either workstation (the card roams).
        self.doctor_a = doctor
        self.doctor_b = Actor(doctor.staff_id, ws_b_id, doctor.roles)
        self.second_doctor = colleague(self.sessions, self.dept, "Окулистова")
        self.registrar_a = colleague(self.sessions, self.dept, "Регистраторова", Role.REGISTRAR)
        self.registrar_b = colleague(self.sessions, self.dept, "Записывающая", Role.REGISTRAR)
        self.a = Workstation(url)
        self.b = Workstation(url)

    @property
    def doctor_id(self) -> int:
        return self.doctor_a.staff_id or 0

    def patient(self, surname: str) -> int:
        return person(self.sessions, self.doctor_a, surname, "Иван", "Петрович").id

    def book(self, slot_id: int, patient_id: int) -> int:
        with self.sessions() as s:
            return schedule.book(
                s,
                self.registrar_a,
                slot_id,
                patient_id,
                VisitType.REPEAT,
                BookingSource.REGISTRY,
                now=BEFORE,
            )

    def scalar(self, stmt: Any) -> Any:
        with self.sessions() as s:
            return s.scalar(stmt)

    def close(self) -> None:
        self.a.dispose()
        self.b.dispose()
        self.engine.dispose()


@pytest.fixture
def clinic(fresh_pg_url: str) -> Iterator[Polyclinic]:
    c = Polyclinic(fresh_pg_url)
    yield c
    c.close()


def booking(actor: Actor, slot_id: int, patient_id: int) -> Callable[[Session], int]:
    def work(s: Session) -> int:
        return schedule.book(
            s, actor, slot_id, patient_id, VisitType.FIRST, BookingSource.REGISTRY, now=BEFORE
        )

    return work


def moving(actor: Actor, appointment_id: int, mv: Move, now: dt.datetime) -> Callable[..., Any]:
    def work(s: Session) -> list[int]:
        return visits.move(s, actor, appointment_id, mv, now=now)

    return work


INSERT_APPOINTMENT = r"^\s*INSERT INTO appointment\b"
INSERT_ENCOUNTER = r"^\s*INSERT INTO encounter\b"
LOCK_PATIENT = r"\bFROM patient\b.*\bFOR UPDATE\b"
LOCK_APPOINTMENT = r"\bFROM appointment\b.*\bFOR UPDATE\b"


# --- (a) one free slot, two patients, two registrars ------------------------------------------
@pytest.mark.parametrize("forced", [False, True], ids=["free-race", "forced-overlap"])
def test_two_registrars_book_the_same_slot_exactly_one_wins(
    clinic: Polyclinic, forced: bool
) -> None:
    slots = open_day(clinic.sessions, clinic.doctor_id, T0, ROUNDS)
    first, second = clinic.patient("Абрамов"), clinic.patient("Борисов")
    hold = INSERT_APPOINTMENT if forced else None
    winners: list[int] = []
    for slot in slots:
        outcomes = race(
            Job(clinic.a, booking(clinic.registrar_a, slot, first), hold),
            Job(clinic.b, booking(clinic.registrar_b, slot, second), hold),
        )
        only_conflicts(outcomes)
        assert [o.ok for o in outcomes].count(True) == 1, outcomes
        loser = next(o for o in outcomes if not o.ok)
        assert "уже занято" in str(loser.error)
        winners.append(first if outcomes[0].ok else second)
        live = clinic.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.slot_id == slot, Appointment.status != S.CANCELLED
            )
        )
        assert live == 1
        booked = clinic.scalar(
            select(Appointment.patient_id).where(
                Appointment.slot_id == slot, Appointment.status != S.CANCELLED
            )
        )
        assert booked == winners[-1]
    assert clinic.scalar(select(func.count(Appointment.id))) == ROUNDS
    # The loser's audit event went with its transaction: one «book» per booking made.
    assert (
        clinic.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "appointment.book")
        )
        == ROUNDS
    )
    if forced:
        # Both were past the «is it taken?» check: the unique index decided every round.
        assert clinic.a.integrity_errors + clinic.b.integrity_errors == ROUNDS


# --- (b) one patient, two doctors, overlapping times ------------------------------------------
@pytest.mark.parametrize("forced", [False, True], ids=["free-race", "forced-overlap"])
def test_one_patient_into_two_overlapping_slots_of_two_doctors_never_both(
    clinic: Polyclinic, forced: bool
) -> None:
    # Round i: doctor 1 at 09:00 + 30i (15 min), doctor 2 at 09:05 + 30i: they overlap;
    # rounds do not overlap each other, so one patient serves every round.
    patient = clinic.patient("Васильев")
    hold = LOCK_PATIENT if forced else None
    second_id = clinic.second_doctor.staff_id or 0
    pairs = [
        (
            open_day(clinic.sessions, clinic.doctor_id, at(30 * i), 1)[0],
            open_day(clinic.sessions, second_id, at(30 * i + 5), 1)[0],
        )
        for i in range(ROUNDS)
    ]
    for mine, theirs in pairs:
        outcomes = race(
            Job(clinic.a, booking(clinic.registrar_a, mine, patient), hold),
            Job(clinic.b, booking(clinic.registrar_b, theirs, patient), hold),
        )
        only_conflicts(outcomes)
        assert [o.ok for o in outcomes].count(True) == 1, outcomes
        loser = next(o for o in outcomes if not o.ok)
        if forced:
            # Both past the slot checks, then queued on the patient's row lock: the second
            # one sees the first one's booking.
            assert "У пациента уже есть запись на это время" in str(loser.error)
        live = clinic.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.slot_id.in_((mine, theirs)), Appointment.status != S.CANCELLED
            )
        )
        assert live == 1
    assert clinic.scalar(select(func.count(Appointment.id))) == ROUNDS
    assert clinic.a.integrity_errors + clinic.b.integrity_errors == 0


# --- (c) one doctor starts two visits from two workstations -----------------------------------
@pytest.mark.parametrize("forced", [False, True], ids=["free-race", "forced-overlap"])
def test_one_doctor_starting_two_visits_at_once_gets_one_in_progress(
    clinic: Polyclinic, forced: bool
) -> None:
    rounds = ROUNDS // 2
    slots = open_day(clinic.sessions, clinic.doctor_id, T0, 2 * rounds)
    people = [clinic.patient(SURNAMES[i]) for i in range(2 * rounds)]
    appts = [clinic.book(sl, p) for sl, p in zip(slots, people, strict=True)]
    hold = INSERT_ENCOUNTER if forced else None
    for r in range(rounds):
        one, two = appts[2 * r], appts[2 * r + 1]
        now = at(20 * r)
        outcomes = race(
            Job(clinic.a, moving(clinic.doctor_a, one, Move.START, now), hold),
            Job(clinic.b, moving(clinic.doctor_b, two, Move.START, now), hold),
        )
        only_conflicts(outcomes)
        assert [o.ok for o in outcomes].count(True) == 1, outcomes
        winner, loser = (one, two) if outcomes[0].ok else (two, one)
        loss = next(o for o in outcomes if not o.ok)
        if forced:
            # Neither saw the other's visit: the unique index refused the second one.
            assert "только что изменили на другом рабочем месте" in str(loss.error)
        with clinic.sessions() as s:
            in_progress = s.scalars(
                select(Encounter.appointment_id).where(
                    Encounter.staff_id == clinic.doctor_id, Encounter.status == S.IN_PROGRESS
                )
            ).all()
            assert in_progress == [winner]
            assert s.get_one(Appointment, winner).status == S.IN_PROGRESS
            lost = s.get_one(Appointment, loser)
            assert (lost.status, lost.arrived_at, lost.version_id) == (S.BOOKED, None, 1)
            assert s.scalar(select(Encounter.id).where(Encounter.appointment_id == loser)) is None
        with clinic.sessions() as s:  # the doctor finishes; the next round starts clean
            visits.move(s, clinic.doctor_a, winner, Move.FINISH, now=now + dt.timedelta(minutes=9))
    assert clinic.scalar(select(func.count(Encounter.id))) == rounds
    starts = select(func.count(AuditEvent.id)).where(AuditEvent.action == "visit.start")
    assert clinic.scalar(starts) == rounds
    if forced:
        assert clinic.a.integrity_errors + clinic.b.integrity_errors == rounds


# --- (d) the registrar marks «arrived» while the doctor starts the visit ----------------------
@pytest.mark.parametrize("forced", [False, True], ids=["free-race", "forced-overlap"])
def test_arrive_and_start_on_the_same_visit_lose_no_update(
    clinic: Polyclinic, forced: bool
) -> None:
    slots = open_day(clinic.sessions, clinic.doctor_id, T0, ROUNDS)
    people = [clinic.patient(SURNAMES[i]) for i in range(ROUNDS)]
    appts = [clinic.book(sl, p) for sl, p in zip(slots, people, strict=True)]
    hold = LOCK_APPOINTMENT if forced else None
    arrived_first = 0
    for r, appt in enumerate(appts):
        arrive_at, start_at = at(15 * r), at(15 * r) + dt.timedelta(seconds=30)
        arrive, start = race(
            Job(clinic.a, moving(clinic.registrar_a, appt, Move.ARRIVE, arrive_at), hold),
            Job(clinic.b, moving(clinic.doctor_b, appt, Move.START, start_at), hold),
        )
        only_conflicts([arrive, start])
        assert start.ok, start  # whoever locks first, the doctor's start stands
        with clinic.sessions() as s:
            a = s.get_one(Appointment, appt)
            enc = s.scalars(select(Encounter).where(Encounter.appointment_id == appt)).one()
            events = s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "appointment", AuditEvent.object_id == appt)
                .order_by(AuditEvent.id)
            ).all()
        assert (a.status, enc.status, enc.started_at) == (S.IN_PROGRESS, S.IN_PROGRESS, start_at)
        if arrive.ok:  # arrived, then started: both updates are there
            arrived_first += 1
            assert a.arrived_at == arrive_at
            assert a.version_id == 3  # booked → arrived → in progress
            assert events == ["appointment.book", "visit.arrive", "visit.start"]
        else:  # started first: «arrived» is refused, not written over the visit
            assert "Нельзя отметить приход" in str(arrive.error)
            assert a.arrived_at == start_at  # called straight in
            assert a.version_id == 2
            assert events == ["appointment.book", "visit.start"]
        with clinic.sessions() as s:
            visits.move(
                s, clinic.doctor_a, appt, Move.FINISH, now=start_at + dt.timedelta(minutes=5)
            )
    assert clinic.a.integrity_errors + clinic.b.integrity_errors == 0
    assert clinic.scalar(select(func.count(Encounter.id))) == ROUNDS


# --- closing the day while a workstation changes it -------------------------------------------
# close_day reads the day (check_day), decides, then inserts the DayClosure; book, move and
# add_walk_in check day_is_closed, then write.  Neither locks anything the other writes, so
# under READ COMMITTED both can pass their checks before either commits.  Each test forces
# that interleaving (both past their checks, then both commit) and states the invariant of
# services/visits.py: «a day closes only when nobody is … arrived-and-waiting or in the
# walk-in queue», «nothing moves on a closed day».  ``must_meet=False``: a fixed service may
# queue one of them on a lock before its statement, and the invariant must then hold anyway.
def closing(clinic: Polyclinic) -> Callable[[Session], visits.DayCheck]:
    def work(s: Session) -> visits.DayCheck:
        return visits.close_day(s, clinic.doctor_b, clinic.doctor_id, DAY, now=at(480))

    return work


CLOSE_DAY = r"^\s*INSERT INTO day_closure\b"
UPDATE_APPOINTMENT = r"^\s*UPDATE appointment\b"


def day_closed(clinic: Polyclinic) -> bool:
    with clinic.sessions() as s:
        return schedule.day_is_closed(s, clinic.doctor_id, DAY)


def test_closing_the_day_while_the_doctor_starts_a_booked_visit(clinic: Polyclinic) -> None:
    slot = open_day(clinic.sessions, clinic.doctor_id, T0, 1)[0]
    appt = clinic.book(slot, clinic.patient("Абрамов"))
    start, close = race(
        Job(clinic.a, moving(clinic.doctor_a, appt, Move.START, at(470)), UPDATE_APPOINTMENT),
        Job(clinic.b, closing(clinic), UPDATE_APPOINTMENT),  # booked → no-show
        must_meet=False,
    )
    only_conflicts([start, close])
    assert [start.ok, close.ok].count(True) == 1, (start, close)
    with clinic.sessions() as s:
        status = s.get_one(Appointment, appt).status
        encounters = s.scalar(select(func.count(Encounter.id)))
    if close.ok:
        assert (status, encounters) == (S.NO_SHOW, 0)
    else:
        assert (status, encounters, day_closed(clinic)) == (S.IN_PROGRESS, 1, False)


def test_closing_the_day_while_a_late_patient_is_marked_arrived(clinic: Polyclinic) -> None:
    slot = open_day(clinic.sessions, clinic.doctor_id, T0, 1)[0]
    appt = clinic.book(slot, clinic.patient("Абрамов"))
    with clinic.sessions() as s:
        visits.move(s, clinic.registrar_a, appt, Move.NO_SHOW, now=at(30))
    arrive, close = race(
        Job(clinic.a, moving(clinic.registrar_a, appt, Move.ARRIVE, at(470)), UPDATE_APPOINTMENT),
        Job(clinic.b, closing(clinic), CLOSE_DAY),
        must_meet=False,
    )
    only_conflicts([arrive, close])
    with clinic.sessions() as s:
        status = s.get_one(Appointment, appt).status
    assert not (day_closed(clinic) and status == S.ARRIVED), (arrive, close)


def test_closing_the_day_while_a_walk_in_is_queued(clinic: Polyclinic) -> None:
    patient = clinic.patient("Борисов")

    def queueing(s: Session) -> int:
        return walk_ins.add_walk_in(
            s, clinic.registrar_a, clinic.doctor_id, patient, WalkInPriority.NORMAL, now=at(470)
        )

    add, close = race(
        Job(clinic.a, queueing, r"^\s*INSERT INTO walk_in\b"),
        Job(clinic.b, closing(clinic), CLOSE_DAY),
        must_meet=False,
    )
    only_conflicts([add, close])
    waiting = clinic.scalar(
        select(func.count(WalkIn.id)).where(
            WalkIn.staff_id == clinic.doctor_id, WalkIn.status == WalkInStatus.WAITING
        )
    )
    assert not (day_closed(clinic) and waiting), (add, close)


def test_closing_the_day_while_a_visit_is_booked(clinic: Polyclinic) -> None:
    slot = open_day(clinic.sessions, clinic.doctor_id, T0 + dt.timedelta(hours=6), 1)[0]
    patient = clinic.patient("Васильев")
    book, close = race(
        Job(clinic.a, booking(clinic.registrar_a, slot, patient), INSERT_APPOINTMENT),
        Job(clinic.b, closing(clinic), CLOSE_DAY),
        must_meet=False,
    )
    only_conflicts([book, close])
    booked = clinic.scalar(select(func.count(Appointment.id)).where(Appointment.status == S.BOOKED))
    assert not (day_closed(clinic) and booked), (book, close)
