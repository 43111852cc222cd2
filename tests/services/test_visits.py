"""The visit state machine on both databases: a day's flow, pauses, illegal moves, closing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services import schedule, visits, walk_ins
from services.audit import Actor
from services.clock import clinic_tz
from services.errors import AccessDenied, ConflictError, ValidationError
from services.models import (
    AppointmentStatus,
    AuditEvent,
    BookingSource,
    Encounter,
    Role,
    VisitType,
    WalkInPriority,
)
from services.visits import DayNotClosable, Move, OnCurrent, PauseInput, VisitInProgress
from tests.factories import base_org, colleague, open_day, person

S = AppointmentStatus
DAY = dt.date(2026, 11, 23)
T0 = dt.datetime.combine(DAY, dt.time(9, 0), clinic_tz()).astimezone(dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


class Day:
    """A doctor with eight slots from 09:00 and five patients booked into the first five."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.doctor, self.dept = base_org(sessions)
        self.registrar = colleague(sessions, self.dept, "Регистраторова", Role.REGISTRAR)
        self.slots = open_day(sessions, self.doctor.staff_id or 0, T0, 8)
        self.people = [
            person(sessions, self.doctor, sn, "Иван", "Петрович")
            for sn in ("Абрамов", "Борисов", "Васильев", "Григорьев", "Данилов")
        ]
        self.appts = [self.book(i, p.id, now=at(-600)) for i, p in enumerate(self.people)]

    def book(
        self, slot: int, patient_id: int, *, now: dt.datetime, actor: Actor | None = None
    ) -> int:
        with self.sessions() as s:
            return schedule.book(
                s,
                actor or self.registrar,
                self.slots[slot],
                patient_id,
                VisitType.REPEAT,
                BookingSource.REGISTRY,
                now=now,
            )

    def move(
        self, i: int, mv: Move, minutes: float, actor: Actor | None = None, **kw: object
    ) -> list[int]:
        with self.sessions() as s:
            return visits.move(s, actor or self.doctor, self.appts[i], mv, now=at(minutes), **kw)  # type: ignore[arg-type]

    def rows(self) -> list[schedule.DayRow]:
        with self.sessions() as s:
            return schedule.day_rows(s, self.doctor.staff_id or 0, DAY)

    def status(self, i: int) -> AppointmentStatus | None:
        return next(r.status for r in self.rows() if r.appointment_id == self.appts[i])


@pytest.fixture
def day(sessions: sessionmaker[Session]) -> Day:
    return Day(sessions)


def test_a_whole_day_arrive_start_pause_resume_finish_no_show(day: Day) -> None:
    day.move(0, Move.ARRIVE, 0, actor=day.registrar)
    day.move(0, Move.START, 2)
    day.move(0, Move.PAUSE, 10, pause=PauseInput("Ожидание действия препарата", 20))
    assert day.status(0) == S.PAUSED
    day.move(1, Move.START, 12)  # booked → in progress: called straight in
    day.move(1, Move.FINISH, 25)
    day.move(0, Move.RESUME, 31)
    day.move(0, Move.FINISH, 36)
    day.move(2, Move.NO_SHOW, 40, actor=day.registrar)
    rows = {r.appointment_id: r for r in day.rows()}
    first = rows[day.appts[0]]
    assert first.status == S.FINISHED
    # 2 → 36 is 34 minutes, of which 21 were paused: 13 minutes with the doctor.
    assert first.active_seconds(at(99)) == pytest.approx(13 * 60)
    assert first.pauses == 1
    assert first.pause_reason == "Ожидание действия препарата"
    second = rows[day.appts[1]]
    assert second.arrived_at == at(12)
    assert second.active_seconds(at(99)) == pytest.approx(13 * 60)
    assert rows[day.appts[2]].status == S.NO_SHOW
    assert [r.status for r in day.rows()][5:] == [None, None, None]  # free slots
    with day.sessions() as s:
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("visit.pause") == 1
    assert actions.count("visit.finish") == 2


def test_paused_visit_shows_its_open_pause_and_recheck(day: Day) -> None:
    day.move(0, Move.START, 0)
    day.move(0, Move.PAUSE, 5, pause=PauseInput("  ЭКГ  ", 15))
    row = next(r for r in day.rows() if r.appointment_id == day.appts[0])
    assert row.pause_reason == "ЭКГ"
    assert row.pause_started_at == at(5)
    assert row.recheck_at == at(20)
    assert row.active_seconds(at(50)) == pytest.approx(5 * 60)  # the clock stops in a pause


def test_starting_a_second_visit_asks_what_to_do_with_the_current_one(day: Day) -> None:
    day.move(0, Move.START, 0)
    with pytest.raises(VisitInProgress) as err:
        day.move(1, Move.START, 5)
    assert err.value.current.appointment_id == day.appts[0]
    assert "Абрамов И. П." in str(err.value)
    assert day.status(1) == S.BOOKED  # nothing changed
    with pytest.raises(ValidationError):
        day.move(1, Move.START, 5, on_current=OnCurrent.PAUSE)  # pausing needs a reason
    changed = day.move(
        1, Move.START, 5, on_current=OnCurrent.PAUSE, current_pause=PauseInput("Анализ крови")
    )
    assert set(changed) == {day.appts[0], day.appts[1]}
    assert (day.status(0), day.status(1)) == (S.PAUSED, S.IN_PROGRESS)
    # Resuming the first while the second runs asks again; finishing the second lets it.
    with pytest.raises(VisitInProgress):
        day.move(0, Move.RESUME, 8)
    day.move(0, Move.RESUME, 9, on_current=OnCurrent.FINISH)
    assert (day.status(0), day.status(1)) == (S.IN_PROGRESS, S.FINISHED)


def test_the_database_itself_allows_one_visit_in_progress_per_doctor(day: Day) -> None:
    day.move(0, Move.START, 0)
    with day.sessions() as s:
        s.add(
            Encounter(
                patient_id=day.people[1].id,
                staff_id=day.doctor.staff_id,
                status=S.IN_PROGRESS,
                started_at=at(1),
            )
        )
        with pytest.raises(Exception, match="(?i)unique"):
            s.commit()


@pytest.mark.parametrize(
    ("prepare", "mv", "message"),
    [
        ([], Move.FINISH, "Нельзя завершить приём: приём ещё не начат"),
        ([], Move.PAUSE, "Нельзя отложить приём: приём ещё не начат"),
        ([], Move.RESUME, "Нельзя возобновить приём: статус приёма «Записан»"),
        ([Move.START], Move.START, "Нельзя начать приём: приём уже идёт"),
        ([Move.START], Move.NO_SHOW, "Нельзя отметить неявку: приём уже идёт"),
        ([Move.START], Move.CANCEL, "Нельзя отменить запись: приём уже идёт"),
        ([Move.START, Move.FINISH], Move.START, "статус приёма «Принят»"),
        ([Move.START, Move.FINISH], Move.ARRIVE, "статус приёма «Принят»"),
        ([Move.NO_SHOW], Move.START, "статус приёма «Неявка»"),
    ],
)
def test_illegal_moves_are_refused_with_a_clear_message(
    day: Day, prepare: list[Move], mv: Move, message: str
) -> None:
    for i, step in enumerate(prepare):
        day.move(0, step, i + 1)
    before = day.status(0)
    with pytest.raises(ConflictError, match=message):
        day.move(0, mv, 10, cancel_reason="по просьбе", pause=PauseInput("ЭКГ"))
    assert day.status(0) == before


def test_rules_of_who_and_when(day: Day) -> None:
    other = colleague(day.sessions, day.dept, "Другой")
    with pytest.raises(AccessDenied, match="приём ведёт врач"):
        day.move(0, Move.START, 0, actor=other)
    with pytest.raises(AccessDenied):
        day.move(0, Move.START, 0, actor=day.registrar)
    with pytest.raises(ConflictError, match="ещё не наступил"):
        day.move(0, Move.ARRIVE, -24 * 60)
    with pytest.raises(ConflictError, match="раньше времени приёма"):
        day.move(4, Move.NO_SHOW, 30)  # the 10:00 visit, at 09:30
    with pytest.raises(ValidationError, match="Причина отмены"):
        day.move(0, Move.CANCEL, 0, actor=day.registrar, cancel_reason="   ")
    day.move(0, Move.START, 0)
    with pytest.raises(ValidationError, match="Причина: не длиннее 300"):
        day.move(0, Move.PAUSE, 1, pause=PauseInput("x" * 301))
    with pytest.raises(ValidationError, match="Напомнить через"):
        day.move(0, Move.PAUSE, 1, pause=PauseInput("ЭКГ", 0))
    assert day.status(0) == S.IN_PROGRESS


def test_late_patient_after_no_show_can_still_arrive(day: Day) -> None:
    day.move(0, Move.NO_SHOW, 20, actor=day.registrar)
    day.move(0, Move.ARRIVE, 25, actor=day.registrar)
    assert day.status(0) == S.ARRIVED


def test_cancelling_frees_the_slot_for_another_booking(day: Day) -> None:
    day.move(0, Move.CANCEL, -30, actor=day.registrar, cancel_reason="Перенос по просьбе")
    assert day.rows()[0].free
    other = person(day.sessions, day.doctor, "Егоров", "Егор")
    day.book(0, other.id, now=at(-20))
    assert day.rows()[0].surname == "Егоров"


def test_booking_rules(day: Day) -> None:
    other = person(day.sessions, day.doctor, "Жуков", "Олег")
    with pytest.raises(ConflictError, match="Это время уже занято"):
        day.book(0, other.id, now=at(-60))
    # The same patient at an overlapping time with another doctor:
    second = colleague(day.sessions, day.dept, "Окулистова")
    slot = open_day(day.sessions, second.staff_id or 0, T0 + dt.timedelta(minutes=5), 1)[0]
    with day.sessions() as s, pytest.raises(ConflictError, match="уже есть запись на это время"):
        schedule.book(
            s,
            day.registrar,
            slot,
            day.people[0].id,
            VisitType.FIRST,
            BookingSource.REGISTRY,
            now=at(-60),
        )
    day.book(5, day.people[0].id, now=at(-60))  # a later time of the same day is fine
    with pytest.raises(ValidationError, match="прошедшее время"):
        day.book(5, other.id, now=at(24 * 60))


def test_walk_in_queue_by_priority_then_take_starts_a_visit(day: Day) -> None:
    a, b = (person(day.sessions, day.doctor, sn, "Анна") for sn in ("Зайцева", "Ильина"))
    staff = day.doctor.staff_id or 0
    with day.sessions() as s:
        walk_ins.add_walk_in(
            s, day.registrar, staff, a.id, WalkInPriority.NORMAL, "кашель", now=at(0)
        )
        walk_ins.add_walk_in(
            s, day.registrar, staff, b.id, WalkInPriority.URGENT, "боль", now=at(3)
        )
        with pytest.raises(ConflictError, match="уже в очереди"):
            walk_ins.add_walk_in(s, day.registrar, staff, a.id, WalkInPriority.URGENT, now=at(4))
        q = walk_ins.queue(s, staff)
    assert [w.surname for w in q] == ["Ильина", "Зайцева"]
    day.move(0, Move.START, 5)
    with day.sessions() as s, pytest.raises(VisitInProgress):
        walk_ins.take_walk_in(s, day.doctor, q[0].id, now=at(6))
    with day.sessions() as s:
        assert len(walk_ins.queue(s, staff)) == 2  # nothing was taken by the refused attempt
        appt, changed = walk_ins.take_walk_in(
            s,
            day.doctor,
            q[0].id,
            on_current=OnCurrent.PAUSE,
            current_pause=PauseInput("ЭКГ", 10),
            now=at(6),
        )
    assert day.appts[0] in changed
    row = next(r for r in day.rows() if r.appointment_id == appt)
    assert (row.surname, row.status, row.visit_type) == ("Ильина", S.IN_PROGRESS, VisitType.WALK_IN)
    assert not row.bookable
    with day.sessions() as s:
        assert [w.surname for w in walk_ins.queue(s, staff)] == ["Зайцева"]
        walk_ins.remove_walk_in(s, day.registrar, q[1].id, "Ушла, не дождавшись")
        assert walk_ins.queue(s, staff) == []


def test_closing_the_day_lists_paused_visits_and_marks_no_shows(day: Day) -> None:
    staff = day.doctor.staff_id or 0
    day.move(0, Move.START, 0)
    day.move(0, Move.PAUSE, 5, pause=PauseInput("Рентген"))
    day.move(1, Move.START, 6)
    day.move(1, Move.FINISH, 20)
    with day.sessions() as s, pytest.raises(DayNotClosable) as err:
        visits.close_day(s, day.doctor, staff, DAY, now=at(480))
    text = str(err.value)
    assert "Отложенные приёмы" in text
    assert "09:00 Абрамов И. П. — отложен: Рентген" in text
    assert day.status(0) == S.PAUSED
    day.move(0, Move.FINISH, 481)
    with day.sessions() as s:
        check = visits.close_day(s, day.doctor, staff, DAY, now=at(482))
    assert len(check.no_shows) == 3
    assert [day.status(i) for i in range(5)] == [
        S.FINISHED,
        S.FINISHED,
        S.NO_SHOW,
        S.NO_SHOW,
        S.NO_SHOW,
    ]
    with pytest.raises(ConflictError, match="закрыт"):
        day.move(2, Move.ARRIVE, 483, actor=day.registrar)
    with day.sessions() as s, pytest.raises(ConflictError, match="уже закрыт"):
        visits.close_day(s, day.doctor, staff, DAY, now=at(484))
    with day.sessions() as s, pytest.raises(AccessDenied):
        visits.close_day(s, day.registrar, staff, DAY, now=at(484))


def test_fingerprint_changes_with_every_move(day: Day) -> None:
    staff = day.doctor.staff_id or 0
    seen = set()
    with day.sessions() as s:
        seen.add(schedule.day_fingerprint(s, staff, DAY))
    day.move(0, Move.ARRIVE, 0, actor=day.registrar)
    with day.sessions() as s:
        fp = schedule.day_fingerprint(s, staff, DAY)
    assert fp not in seen
    seen.add(fp)
    day.move(0, Move.START, 1)
    with day.sessions() as s:
        fp2 = schedule.day_fingerprint(s, staff, DAY)
        assert fp2 == schedule.day_fingerprint(s, staff, DAY)  # stable while nothing changes
    assert fp2 not in seen


def test_week_pattern_and_generation(sessions: sessionmaker[Session]) -> None:
    doctor, _dept = base_org(sessions)
    pattern = schedule.parse_week_pattern("пн,ср,пт 08:00-10:00; вт-чт 14:00-15:00")
    assert sorted(pattern.hours) == [0, 1, 2, 3, 4]
    with sessions() as s:
        created, skipped = schedule.generate_slots(
            s, doctor, doctor.staff_id or 0, pattern, DAY, DAY + dt.timedelta(days=6)
        )
    # Mon 8, Tue 4, Wed 8 + 4, Thu 4, Fri 8 = 36
    assert (created, skipped) == (36, [])
    with sessions() as s:
        again = schedule.generate_slots(
            s, doctor, doctor.staff_id or 0, pattern, DAY, DAY + dt.timedelta(days=6)
        )
        rows = schedule.day_rows(s, doctor.staff_id or 0, DAY)
    assert again[0] == 0
    assert len(again[1]) == 5
    assert rows[0].starts_at.astimezone(clinic_tz()).time() == dt.time(8, 0)
    for bad in (
        "",
        "пн 10:00-09:00",
        "xx 08:00-09:00",
        "пн 25:00-26:00",
        "пн восемь",
        "пн-пт 08:00-14:00; пн 12:00-16:00",
    ):
        with pytest.raises(ValidationError, match="Шаблон недели"):
            schedule.parse_week_pattern(bad)
