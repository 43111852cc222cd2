"""Sick-leave certificates (ЭЛН): the lifecycle with the commission rule, continuation,
duplicate, closing by return to work and by outcome, regime violations, every refusal with its
field, the number source, the print data, audit and permissions — on SQLite and PostgreSQL;
the number source from two workstations at once on PostgreSQL."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services import emk, sick_leave
from services.audit import Actor
from services.clock import clinic_tz, local_day, now_utc
from services.emk import TimelineFilter
from services.errors import AccessDenied, ConflictError, ValidationError, ValidationErrors
from services.models import (
    AuditEvent,
    DocKind,
    ElnNumber,
    EmkDocument,
    Employment,
    Patient,
    Role,
    SickLeave,
    SickLeaveKind,
    Staff,
)
from services.printouts import PrintJob, archive
from services.sick_leave import (
    CaredPerson,
    CloseInput,
    LocalLnNumberSource,
    PeriodInput,
    SickLeaveInput,
    SickLeaveStatus,
)
from services.sick_leave_desk import SickLeaveDesk
from tests.factories import base_org, colleague, person
from tests.services.test_schedule_pg import Job, Polyclinic, race

St = SickLeaveStatus
K = SickLeaveKind
DAY = local_day(now_utc())  # the desk works on the real clock; the rest is pinned to DAY


def d(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


def at(n: int, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(d(n), dt.time(hour), clinic_tz()).astimezone(dt.UTC)


NOW = at(0)


def months_later(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


EMPLOYER = "ООО «Ромашка»"


def flu(first: int = 0, last: int = 4, **kw: object) -> SickLeaveInput:
    inp = SickLeaveInput("01", "J06.9", PeriodInput(d(first), d(last)), employer=EMPLOYER)
    return replace(inp, **kw)  # type: ignore[arg-type]


class World:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.doctor, self.dept = base_org(sessions)
        self.chair = self._staff("Главнова", "Заместитель главного врача, председатель ВК")
        self.feldsher = self._staff("Фельдшерова", "Фельдшер")
        self.registrar = colleague(sessions, self.dept, "Смирнова", Role.REGISTRAR)
        self.patient = person(sessions, self.doctor, "Иванова", "Мария", "Петровна").id
        self.no_snils = person(sessions, self.doctor, "Петров", "Олег", with_ids=False).id

    def _staff(self, surname: str, position: str) -> Actor:
        actor = colleague(self.sessions, self.dept, surname)
        with self.sessions() as s:
            st = s.get(Staff, actor.staff_id)
            assert st is not None
            st.position = position
            s.commit()
        return actor

    @property
    def chair_id(self) -> int:
        assert self.chair.staff_id is not None
        return self.chair.staff_id

    def open(
        self,
        inp: SickLeaveInput,
        *,
        patient: int | None = None,
        actor: Actor | None = None,
        now: dt.datetime = NOW,
    ) -> int:
        with self.sessions() as s:
            return sick_leave.open_sick_leave(
                s, actor or self.doctor, patient or self.patient, inp, now=now
            )

    def extend(
        self, sid: int, first: int, last: int, chair: int | None = None, now: dt.datetime = NOW
    ) -> None:
        with self.sessions() as s:
            sick_leave.extend(
                s, self.doctor, sid, PeriodInput(d(first), d(last), chair_id=chair), now=now
            )

    def close(self, sid: int, inp: CloseInput, now: dt.datetime) -> None:
        with self.sessions() as s:
            sick_leave.close(s, self.doctor, sid, inp, now=now)

    def row(self, sid: int) -> sick_leave.SickLeaveRow:
        with self.sessions() as s:
            return sick_leave.get(s, sid)

    def actions(self) -> list[str]:
        with self.sessions() as s:
            stmt = (
                select(AuditEvent.action)
                .where(AuditEvent.action.like("sick_leave.%"))
                .order_by(AuditEvent.id)
            )
            return list(s.scalars(stmt))


@pytest.fixture
def w(sessions: sessionmaker[Session]) -> World:
    return World(sessions)


def rules(e: pytest.ExceptionInfo[ValidationErrors]) -> list[tuple[str, str]]:
    return [(x.field, x.rule) for x in e.value.errors]


def has(e: pytest.ExceptionInfo[ValidationErrors], field: str, rule: str) -> bool:
    return any(f == field and rule in r for f, r in rules(e))


# --- the lifecycle ----------------------------------------------------------------------------
def test_open_extend_the_commission_rule_and_close_by_return_to_work(w: World) -> None:
    sid = w.open(flu(0, 6))
    row = w.row(sid)
    assert row.number == "000000000001"
    assert (row.status, row.kind, row.days) == (St.OPEN, K.PRIMARY, 7)
    assert row.periods[0].doctor == "Петрова А. С."
    # Up to the 15th day the doctor extends alone.
    w.extend(sid, 7, 14, now=at(6))
    assert (w.row(sid).status, w.row(sid).days) == (St.EXTENDED, 15)
    # The 16th day is the commission's: refused without its chair, accepted with it.
    with pytest.raises(ValidationErrors) as e:
        w.extend(sid, 15, 15, now=at(14))
    assert rules(e) == [
        (
            "Председатель ВК",
            "освобождение сверх 15 дней — только по решению врачебной комиссии (1089н): "
            "с этим периодом 16 дней",
        )
    ]
    assert w.row(sid).days == 15  # nothing written
    w.extend(sid, 15, 18, chair=w.chair_id, now=at(14))
    row = w.row(sid)
    assert row.days == 19
    assert (row.periods[-1].chair, row.periods[-1].chair_role) == (
        "Главнова М. И.",
        "председатель врачебной комиссии",
    )
    # Closed at the visit on the last day: back to work the day after.
    w.close(sid, CloseInput(), now=at(18))
    row = w.row(sid)
    assert (row.status, row.return_to_work_on) == (St.CLOSED, d(19))
    # Nothing more after closing.
    with pytest.raises(ConflictError, match="закрыт — продлить нельзя"):
        w.extend(sid, 19, 20, chair=w.chair_id, now=at(18))
    with pytest.raises(ConflictError, match="закрыт — закрыть повторно нельзя"):
        w.close(sid, CloseInput(), now=at(19))
    assert w.actions() == [
        "sick_leave.open",
        "sick_leave.extend",
        "sick_leave.extend",
        "sick_leave.close",
    ]
    # Every step is a new version of one EMK document; the timeline shows the newest.
    with w.sessions() as s:
        docs = s.scalars(
            select(EmkDocument)
            .where(EmkDocument.kind == DocKind.SICK_LEAVE)
            .order_by(EmkDocument.id)
        ).all()
        assert [x.version for x in docs] == [1, 2, 3, 4]
        assert [x.amend_reason for x in docs] == ["", "Продление", "Продление", "Закрытие"]
        assert docs[-1].id == row.document_id
        assert docs[-1].title == "ЭЛН № 000000000001: заболевание"
        assert "закрыт" in docs[-1].summary
        page = emk.timeline(s, w.patient, TimelineFilter(kinds=frozenset({DocKind.SICK_LEAVE})))
        assert [r.id for r in page] == [docs[-1].id]


def test_close_by_outcome_code(w: World) -> None:
    sid = w.open(flu(0, 9))
    with pytest.raises(ValidationErrors) as e:
        w.close(sid, CloseInput(outcome_code="30", outcome_date=d(20)), now=at(9))
    assert has(e, "Иное", "код от 31 до 37")
    assert has(e, "Иное: дата", f"в пределах случая: {d(0):%d.%m.%Y}–{d(10):%d.%m.%Y}")
    with pytest.raises(ValidationErrors) as e:
        w.close(sid, CloseInput(outcome_code="32"), now=at(9))
    assert rules(e) == [("Иное: дата", "обязательное поле")]
    w.close(sid, CloseInput(outcome_code="32", outcome_date=d(8)), now=at(8))
    row = w.row(sid)
    assert (row.status, row.outcome_code, row.outcome_date, row.return_to_work_on) == (
        St.CLOSED,
        "32",
        d(8),
        None,
    )


def test_return_to_work_rules(w: World) -> None:
    sid = w.open(flu(0, 4))
    with pytest.raises(ValidationErrors) as e:
        w.close(sid, CloseInput(return_to_work_on=d(7)), now=at(4))
    assert rules(e) == [
        (
            "Приступить к работе",
            f"на следующий день после последнего дня освобождения: {d(5):%d.%m.%Y}",
        )
    ]
    with pytest.raises(ValidationErrors) as e:
        w.close(sid, CloseInput(), now=at(2))
    assert has(e, "Приступить к работе", "закрывают на приёме в последний день освобождения")
    with pytest.raises(ValidationErrors) as e:
        w.close(
            sid, CloseInput(return_to_work_on=d(5), outcome_code="36", outcome_date=d(4)), now=at(4)
        )
    assert has(e, "Приступить к работе", "или дата выхода на работу, или иной исход")


def test_periods_follow_each_other_without_gap_or_overlap(w: World) -> None:
    sid = w.open(flu(0, 4))
    with pytest.raises(ValidationErrors) as e:
        w.extend(sid, 7, 9, now=at(4))
    assert rules(e) == [
        (
            "Период",
            f"должен начинаться {d(5):%d.%m.%Y} — на следующий день после предыдущего периода, "
            "без разрыва",
        )
    ]
    with pytest.raises(ValidationErrors) as e:
        w.extend(sid, 3, 6, now=at(2))
    assert has(e, "Период", f"пересекается с предыдущим периодом (до {d(4):%d.%m.%Y})")
    with pytest.raises(ValidationErrors) as e:
        w.extend(sid, 5, 4, now=at(4))
    assert rules(e) == [("Период", "окончание раньше начала")]


def test_how_long_one_period_may_be(w: World) -> None:
    with pytest.raises(ValidationErrors) as e:
        w.open(flu(0, 15))
    assert has(
        e,
        "Период",
        "врач единолично освобождает не больше чем на 15 календарных дней за раз (1089н), "
        "а здесь 16",
    )
    # A фельдшер gives at most 10 days (read from the position: staff has no qualification).
    with pytest.raises(ValidationErrors) as e:
        w.open(flu(0, 10, first_period=PeriodInput(d(0), d(10))), actor=w.feldsher)
    assert has(
        e,
        "Период",
        "фельдшер (зубной врач) единолично освобождает не больше чем на 10 календарных дней",
    )
    sid = w.open(flu(0, 9), actor=w.feldsher)
    assert w.row(sid).periods[0].doctor_role == "Фельдшер"
    # The commission too extends at most 15 days at a time.
    with pytest.raises(ValidationErrors) as e:
        w.extend(sid, 10, 25, chair=w.chair_id, now=at(9))
    assert rules(e) == [
        (
            "Период",
            "врачебная комиссия продлевает не больше чем на 15 дней за раз (1089н), а здесь 16",
        )
    ]


def test_past_days_need_the_commission(w: World) -> None:
    back = flu(-3, 2)
    with pytest.raises(ValidationErrors) as e:
        w.open(back)
    assert rules(e) == [
        (
            "Председатель ВК",
            f"освобождение за прошедшие дни (с {d(-3):%d.%m.%Y}) — только по решению "
            "врачебной комиссии (1089н)",
        )
    ]
    sid = w.open(replace(back, first_period=replace(back.first_period, chair_id=w.chair_id)))
    assert w.row(sid).periods[0].starts_on == d(-3)
    with pytest.raises(ValidationErrors) as e:
        w.open(flu(2, 5, employer="ООО «Лютик»"))
    assert rules(e) == [
        ("Период", "ЭЛН открывают с дня приёма (после окончания рабочего дня — со следующего дня)")
    ]


def test_the_whole_case_is_at_most_ten_months_twelve_for_tuberculosis(w: World) -> None:
    limit: dict[str, int] = {}
    for reason in ("01", "11"):
        employer = f"Завод № {reason}"
        sid = w.open(flu(0, 14, reason_code=reason, employer=employer))
        last = 14
        while True:
            try:
                w.extend(sid, last + 1, last + 15, chair=w.chair_id, now=at(last))
            except ValidationErrors as e:
                (err,) = e.errors
                assert err.field == "Период"
                assert "направьте пациента на медико-социальную экспертизу" in err.rule
                break
            last += 15
        limit[reason] = last
    for reason, months in (("01", 10), ("11", 12)):
        allowed = months_later(d(0), months) - dt.timedelta(days=1)
        assert d(limit[reason]) <= allowed < d(limit[reason] + 15), (reason, limit)


def test_maternity_leave_is_one_long_period(w: World) -> None:
    sid = w.open(SickLeaveInput("05", "Z34.0", PeriodInput(d(0), d(139)), employer=EMPLOYER))
    assert w.row(sid).days == 140


# --- opening: every refusal with its field ----------------------------------------------------
OPEN_RULES: list[tuple[str, SickLeaveInput, str, str]] = [
    (
        "no employer",
        flu(employer=" "),
        "Место работы",
        "укажите работодателя: ЭЛН формируют работающему (255-ФЗ ст. 2)",
    ),
    ("reason 16", flu(reason_code="16"), "Причина нетрудоспособности", "код от 01 до 15"),
    ("additional code 22", flu(additional_code="22"), "Дополнительный код", "17–21 или пусто"),
    (
        "change code equal to the reason",
        flu(change_code="01"),
        "Код изменения",
        "код причины 01–15, отличный от первоначального",
    ),
    ("a block for a diagnosis", flu(mkb_code="J00-J06"), "Диагноз по МКБ-10", "это блок"),
    (
        "care without whom",
        flu(reason_code="09"),
        "Уход",
        "укажите, за кем ухаживает пациент: код родства 38–42, ФИО и возраст",
    ),
    (
        "care with a wrong relation code",
        flu(reason_code="09", cared=(CaredPerson("37", "Иванов Пётр", 5),)),
        "Уход 1: Родство",
        "код 38 мать, 39 отец, 40 опекун, 41 попечитель, 42 иной родственник",
    ),
    (
        "care without a name",
        flu(reason_code="09", cared=(CaredPerson("38", " ", 5),)),
        "Уход 1: ФИО",
        "обязательное поле",
    ),
    (
        "a child's reason for an adult",
        flu(reason_code="12", cared=(CaredPerson("38", "Иванов Пётр", 19),)),
        "Уход 1: Возраст",
        "причина 12 — уход за ребёнком до 18 лет",
    ),
    (
        "care for an illness of one's own",
        flu(cared=(CaredPerson("38", "Иванов Пётр", 5),)),
        "Уход",
        "заполняют только для причин 09, 12–15",
    ),
    (
        "three people cared for",
        flu(reason_code="09", cared=(CaredPerson("38", "А Б", 5),) * 3),
        "Уход",
        "не больше 2 человек на одном ЭЛН",
    ),
    (
        "a previous number on a primary one",
        flu(previous_number="000000000777"),
        "Предыдущий ЭЛН",
        "указывают только для продолжения или дубликата",
    ),
    (
        "a continuation of nothing",
        flu(kind=K.CONTINUATION),
        "Предыдущий ЭЛН",
        "номер из 12 цифр",
    ),
    (
        "a duplicate without the commission",
        flu(kind=K.DUPLICATE, previous_number="123456789012"),
        "Председатель ВК",
        "дубликат формируют по решению врачебной комиссии (1089н п. 67)",
    ),
    (
        "the main job's number on a main job",
        flu(main_job_number="123456789012"),
        "ЭЛН по основному месту работы",
        "только для работы по совместительству",
    ),
]


@pytest.mark.parametrize(
    ("case", "inp", "field", "rule"), OPEN_RULES, ids=[r[0] for r in OPEN_RULES]
)
def test_each_opening_rule_names_its_field(
    w: World, case: str, inp: SickLeaveInput, field: str, rule: str
) -> None:
    with pytest.raises(ValidationErrors) as e:
        w.open(inp)
    assert has(e, field, rule), (case, rules(e))
    with w.sessions() as s:
        assert s.scalar(select(func.count(SickLeave.id))) == 0
        assert s.scalar(select(func.count(ElnNumber.number))) == 0  # no number spent


def test_no_snils_no_certificate_and_every_rule_at_once(w: World) -> None:
    with pytest.raises(ValidationErrors) as e:
        w.open(flu(employer="", reason_code="99"), patient=w.no_snils)
    assert [f for f, _ in rules(e)] == ["СНИЛС", "Причина нетрудоспособности", "Место работы"]


def test_a_registered_unemployed_needs_no_employer(w: World) -> None:
    sid = w.open(flu(employer="", unemployed_registered=True))
    with w.sessions() as s:
        data = sick_leave.print_data(s, sid)
    assert (data.employer, data.unemployed_registered) == ("", True)


def test_a_second_certificate_for_the_same_days_and_employer_is_refused(w: World) -> None:
    first = w.open(flu(0, 4))
    with pytest.raises(ValidationErrors) as e:
        w.open(flu(1, 6, employer="  ооо «ромашка» "))
    assert rules(e) == [
        (
            "Период",
            f"пересекается с ЭЛН № 000000000001 ({d(0):%d.%m.%Y}–{d(4):%d.%m.%Y}) "
            "по тому же месту работы",
        )
    ]
    # A second job gets its own certificate for the same days.
    second = w.open(
        flu(
            0,
            4,
            employer="ГБОУ Школа № 5",
            employment=Employment.SECONDARY,
            main_job_number=w.row(first).number,
        )
    )
    assert w.row(second).employment == Employment.SECONDARY
    # Extending one into days the other certificate of the same employer covers is refused.
    third = w.open(flu(6, 8), now=at(6))
    with pytest.raises(ValidationErrors, match="пересекается с ЭЛН № 000000000003"):
        w.extend(first, 5, 7, now=at(4))
    assert w.row(third).status == St.OPEN


# --- continuation ------------------------------------------------------------------------------
def test_a_continuation_links_to_the_certificate_it_continues(w: World) -> None:
    first = w.open(flu(0, 9))
    number = w.row(first).number
    cont = flu(10, 14, kind=K.CONTINUATION, previous_number=number)
    with pytest.raises(ValidationErrors) as e:
        w.open(cont, now=at(10))
    assert rules(e) == [
        (
            "Предыдущий ЭЛН",
            f"№ {number} не закрыт с кодом 31 «продолжает болеть» — продолжение выдают к "
            "такому листку",
        )
    ]
    w.close(first, CloseInput(outcome_code="31", outcome_date=d(10)), now=at(9))
    with pytest.raises(ValidationErrors) as e:
        w.open(replace(cont, first_period=PeriodInput(d(11), d(14))), now=at(10))
    assert has(e, "Период", f"должен начинаться {d(10):%d.%m.%Y}")
    second = w.open(cont, now=at(10))
    a, b = w.row(first), w.row(second)
    assert (b.kind, b.previous_number, a.next_number) == (K.CONTINUATION, number, b.number)
    assert (a.status, a.outcome_code) == (St.CLOSED, "31")
    # The case counts on: 10 + 5 days, so the 16th day needs the commission here too.
    with pytest.raises(ValidationErrors) as e:
        w.extend(second, 15, 16, now=at(14))
    assert has(e, "Председатель ВК", "с этим периодом 17 дней")
    w.extend(second, 15, 16, chair=w.chair_id, now=at(14))
    with pytest.raises(ValidationErrors) as e:
        w.open(replace(cont, employer="Другое место"), now=at(10))
    assert has(e, "Предыдущий ЭЛН", f"к № {number} уже выдано продолжение № {b.number}")
    # An open certificate cannot be cancelled from under its continuation.
    with w.sessions() as s, pytest.raises(ConflictError, match="сначала аннулируйте его"):
        sick_leave.cancel(s, w.doctor, first, "ошибка", now=at(10))
    assert "sick_leave.continue" in w.actions()
    with w.sessions() as s:
        data = sick_leave.print_data(s, first)
        assert (data.next_number, data.primary) == (b.number, True)
        data = sick_leave.print_data(s, second)
        assert (data.previous_number, data.continuation, data.primary) == (number, True, False)


def test_a_continuation_of_a_certificate_from_elsewhere(w: World) -> None:
    sid = w.open(flu(0, 4, kind=K.CONTINUATION, previous_number="900000123456"))
    assert w.row(sid).previous_number == "900000123456"


# --- duplicate -----------------------------------------------------------------------------------
def test_a_duplicate_replaces_the_certificate_by_commission_decision(w: World) -> None:
    orig = w.open(flu(0, 6))
    w.extend(orig, 7, 10, now=at(6))
    with w.sessions() as s, pytest.raises(ValidationErrors, match="1089н п. 67"):
        sick_leave.duplicate(s, w.doctor, orig, 999_999, now=at(7))
    with w.sessions() as s:
        dup = sick_leave.duplicate(s, w.doctor, orig, w.chair_id, now=at(7))
    a, b = w.row(orig), w.row(dup)
    assert (a.status, a.replaced_by) == (St.REPLACED, b.number)
    assert (b.kind, b.previous_number, b.status) == (K.DUPLICATE, a.number, St.EXTENDED)
    assert [(p.starts_on, p.ends_on) for p in b.periods] == [(d(0), d(6)), (d(7), d(10))]
    with pytest.raises(ConflictError, match="заменён дубликатом"):
        w.extend(orig, 11, 12, now=at(10))
    with w.sessions() as s, pytest.raises(ConflictError, match="уже заменён дубликатом"):
        sick_leave.duplicate(s, w.doctor, orig, w.chair_id, now=at(7))
    w.extend(dup, 11, 12, now=at(10))  # the duplicate lives on; the original is no overlap
    assert w.row(dup).days == 13
    with w.sessions() as s:
        data = sick_leave.print_data(s, dup)
        assert (data.duplicate, data.previous_number) == (True, a.number)
        vk = s.scalar(select(SickLeave.vk_chair_id).where(SickLeave.id == dup))
        assert vk == w.chair_id
    assert w.actions()[-2:] == ["sick_leave.duplicate", "sick_leave.extend"]


def test_a_duplicate_of_a_certificate_arm_does_not_hold(w: World) -> None:
    inp = flu(kind=K.DUPLICATE, previous_number="123456789012", vk_chair_id=w.chair_id)
    sid = w.open(inp)
    row = w.row(sid)
    assert (row.kind, row.previous_number) == (K.DUPLICATE, "123456789012")
    with pytest.raises(ValidationErrors) as e:
        w.open(replace(inp, previous_number=row.number, employer="Другое"))
    assert has(e, "Предыдущий ЭЛН", "выдан здесь — дубликат оформляют из самого листка")


# --- regime violations, care, cancelling --------------------------------------------------------
def test_a_regime_violation_is_marked_once_with_its_date(w: World) -> None:
    sid = w.open(flu(0, 9))
    with w.sessions() as s, pytest.raises(ValidationErrors) as e:
        sick_leave.record_violation(s, w.doctor, sid, "22", d(30), now=at(3))
    assert rules(e) == [
        ("Нарушение режима", "код от 23 до 28"),
        ("Дата нарушения", f"в пределах листка: {d(0):%d.%m.%Y}–{d(10):%d.%m.%Y}"),
    ]
    with w.sessions() as s:
        sick_leave.record_violation(s, w.doctor, sid, "24", d(3), now=at(3))
    row = w.row(sid)
    assert (row.violation_code, row.violation_date, row.status) == ("24", d(3), St.OPEN)
    with w.sessions() as s, pytest.raises(ValidationErrors) as e:
        sick_leave.record_violation(s, w.doctor, sid, "23", d(4), now=at(4))
    assert rules(e) == [("Нарушение режима", f"уже отмечено: 24 с {d(3):%d.%m.%Y}")]
    with w.sessions() as s:
        data = sick_leave.print_data(s, sid)
    assert (data.violation_code, data.violation, data.violation_date) == (
        "24",
        "несвоевременная явка на прием к врачу",
        d(3),
    )
    w.close(sid, CloseInput(), now=at(9))
    with w.sessions() as s, pytest.raises(ConflictError, match="закрыт"):
        sick_leave.record_violation(s, w.doctor, sid, "25", d(9), now=at(9))
    assert "sick_leave.violation" in w.actions()


def test_care_for_a_child(w: World) -> None:
    child = CaredPerson("38", "Иванов  Пётр Сергеевич", 5, 3)
    sid = w.open(flu(reason_code="09", mkb_code="J18.9", cared=(child,)))
    with w.sessions() as s:
        data = sick_leave.print_data(s, sid)
    (c,) = data.cared
    assert (c.name, c.relation_code, c.relation, c.age_years, c.age_months) == (
        "Иванов Пётр Сергеевич",
        "38",
        "мать",
        5,
        3,
    )
    assert data.reason == "уход за больным членом семьи"


def test_cancel_with_a_reason(w: World) -> None:
    sid = w.open(flu(0, 4))
    with w.sessions() as s, pytest.raises(ValidationError, match="обязательное поле"):
        sick_leave.cancel(s, w.doctor, sid, " ", now=NOW)
    with w.sessions() as s:
        sick_leave.cancel(s, w.doctor, sid, "Выдан не тому пациенту", now=NOW)
    row = w.row(sid)
    assert (row.status, row.cancel_reason) == (St.CANCELLED, "Выдан не тому пациенту")
    with pytest.raises(ConflictError, match="аннулирован — продлить нельзя"):
        w.extend(sid, 5, 6)
    # A cancelled certificate covers nothing: the same days can be given again.
    again = w.open(flu(0, 4))
    assert w.row(again).number == "000000000002"
    assert w.actions() == ["sick_leave.open", "sick_leave.cancel", "sick_leave.open"]


# --- the number --------------------------------------------------------------------------------
def test_the_local_number_source_never_repeats(w: World) -> None:
    with w.sessions() as s:
        source = LocalLnNumberSource(s)
        first = source.new_numbers(3)
        s.rollback()  # a rolled-back transaction gives its numbers back: none was used
        again = source.new_numbers(3)
        one = source.new_number()
        s.commit()
        with pytest.raises(ValidationError, match="от 1 до 1000"):
            source.new_numbers(0)
    assert first == again == ["000000000001", "000000000002", "000000000003"]
    assert one == "000000000004"
    sid = w.open(flu())
    assert w.row(sid).number == "000000000005"
    with w.sessions() as s:
        rows = s.scalars(select(ElnNumber).order_by(ElnNumber.number)).all()
        assert [(r.number, r.source, r.sick_leave_id) for r in rows][-2:] == [
            ("000000000004", "local", None),
            ("000000000005", "local", sid),
        ]


class FixedSource:
    """A fund that answers with what it is told to (a broken or a repeating service)."""

    def __init__(self, *numbers: str) -> None:
        self.numbers = list(numbers)

    def new_number(self) -> str:
        return self.numbers.pop(0)

    def new_numbers(self, count: int) -> list[str]:
        return [self.new_number() for _ in range(count)]


def test_a_number_from_the_fund_is_checked_and_used_once(w: World) -> None:
    with w.sessions() as s:
        sid = sick_leave.open_sick_leave(
            s, w.doctor, w.patient, flu(), numbers=FixedSource("910000000017"), now=NOW
        )
    assert w.row(sid).number == "910000000017"
    with w.sessions() as s:
        assert s.get(ElnNumber, "910000000017") is not None
        with pytest.raises(ConflictError, match="уже использован"):
            sick_leave.open_sick_leave(
                s,
                w.doctor,
                w.patient,
                flu(employer="Другое место"),
                numbers=FixedSource("910000000017"),
                now=NOW,
            )
    with w.sessions() as s, pytest.raises(ConflictError, match="не 12 цифр"):
        sick_leave.open_sick_leave(
            s, w.doctor, w.patient, flu(employer="Третье"), numbers=FixedSource("9100"), now=NOW
        )


# --- print data, permissions ---------------------------------------------------------------------
def test_print_data_for_the_sheet_and_the_347n_blank(w: World) -> None:
    sid = w.open(flu(0, 6, additional_code="21"))
    w.extend(sid, 7, 17, chair=w.chair_id, now=at(6))
    w.close(sid, CloseInput(), now=at(17))
    with w.sessions() as s:
        data = sick_leave.print_data(s, sid)
        p = s.get(Patient, w.patient)
        assert p is not None
        assert p.snils is not None
        snils = p.snils
    assert data.number == "000000000001"
    assert (data.status, data.status_text, data.issued_on) == (St.CLOSED, "закрыт", DAY)
    assert (data.organisation_name, data.organisation_ogrn) == ("ГБУЗ «ГП № 1»", "1027700000001")
    assert (data.patient_name, data.birth_date, data.sex) == (
        "Иванова Мария Петровна",
        dt.date(1985, 3, 12),
        2,
    )
    assert data.snils == f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"
    assert (data.employer, data.main_job, data.main_job_number) == (EMPLOYER, True, "")
    assert (data.reason_code, data.reason, data.additional_code) == ("01", "заболевание", "21")
    assert data.mkb_code == "J06.9"
    assert (data.primary, data.continuation, data.duplicate) == (True, False, False)
    first, second = data.periods
    assert (first.start, first.end, first.days) == (d(0), d(6), 7)
    assert (first.doctor_position, first.doctor_name) == (
        "Врач-терапевт участковый",
        "Петрова Анна Сергеевна",
    )
    assert (first.chair_position, first.chair_name) == ("", "")
    assert (second.days, second.chair_name) == (11, "Главнова Мария Ивановна")
    assert second.chair_position == "председатель врачебной комиссии"
    assert (data.return_to_work, data.outcome_code) == (d(18), "")
    assert (data.doctor_position, data.doctor_name) == (
        "Врач-терапевт участковый",
        "Петрова Анна Сергеевна",
    )
    assert data.copy_no == 1
    job = PrintJob(w.patient, "ЭЛН", "ЭЛН", "sick_leave", sid, data.document_id, 1, b"%PDF")
    with w.sessions() as s:
        archive(s, w.doctor, job)
        assert sick_leave.print_data(s, sid).copy_no == 2


def test_a_registrar_may_not_write_or_read_sick_leave(w: World) -> None:
    today = local_day(now_utc())
    inp = SickLeaveInput("01", "J06.9", PeriodInput(today, today + dt.timedelta(4)), EMPLOYER)
    registrar = SickLeaveDesk(w.sessions, w.registrar)
    with pytest.raises(AccessDenied, match="записи в медицинской карте"):
        registrar.open(w.patient, inp)
    with pytest.raises(AccessDenied):
        registrar.reserve_numbers(5)
    doctor = SickLeaveDesk(w.sessions, w.doctor)
    row = doctor.open(w.patient, inp)
    assert row.status == St.OPEN
    for refused in (
        lambda: registrar.of_patient(w.patient),
        lambda: registrar.print_data(row.id),
        lambda: registrar.extend(
            row.id, PeriodInput(today + dt.timedelta(5), today + dt.timedelta(6))
        ),
        lambda: registrar.close(row.id, CloseInput()),
        lambda: registrar.cancel(row.id, "ошибка"),
    ):
        with pytest.raises(AccessDenied):
            refused()
    assert [r.number for r in doctor.of_patient(w.patient)] == [row.number]
    assert doctor.reserve_numbers(2) == ["000000000002", "000000000003"]
    assert (
        doctor.extend(row.id, PeriodInput(today + dt.timedelta(5), today + dt.timedelta(6))).days
        == 7
    )
    assert doctor.record_violation(row.id, "24", today).violation_code == "24"
    dup = doctor.duplicate(row.id, w.chair_id)
    assert dup.number == "000000000004"
    assert doctor.get(row.id).status == St.REPLACED
    assert doctor.cancel(dup.id, "ошибка").status == St.CANCELLED
    assert doctor.print_data(dup.id).duplicate is True
    with w.sessions() as s:
        denied = s.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "access.denied")
        ).all()
    assert "sick_leave.open: record.write" in denied
    assert w.actions() == [
        "sick_leave.open",
        "sick_leave.numbers",
        "sick_leave.extend",
        "sick_leave.violation",
        "sick_leave.duplicate",
        "sick_leave.cancel",
    ]


# --- two workstations at once on PostgreSQL ----------------------------------------------------
@pytest.fixture
def clinic(fresh_pg_url: str) -> Iterator[Polyclinic]:
    c = Polyclinic(fresh_pg_url)
    yield c
    c.close()


def taking(count: int) -> Callable[[Session], list[str]]:
    def work(s: Session) -> list[str]:
        numbers = LocalLnNumberSource(s).new_numbers(count)
        s.commit()
        return numbers

    return work


@pytest.mark.pg
@pytest.mark.parametrize("hold", [None, r"\bUPDATE number_sequence\b"], ids=["free", "forced"])
def test_two_workstations_never_get_the_same_number(clinic: Polyclinic, hold: str | None) -> None:
    got: list[str] = []
    for _ in range(5):
        outcomes = race(
            Job(clinic.a, taking(20), hold),
            Job(clinic.b, taking(20), hold),
            must_meet=False,  # the first UPDATE holds the row: the other waits for its commit
        )
        assert all(o.ok for o in outcomes), outcomes
        for o in outcomes:
            got += o.value
    assert len(got) == len(set(got)) == 200
    assert sorted(got) == [f"{i:012d}" for i in range(1, 201)]


@pytest.mark.pg
def test_two_workstations_open_certificates_with_different_numbers(clinic: Polyclinic) -> None:
    patients = [clinic.patient(name) for name in ("Абрамов", "Борисов")]

    def opening(actor: Actor, patient: int) -> Callable[[Session], int]:
        def work(s: Session) -> int:
            return sick_leave.open_sick_leave(s, actor, patient, flu(), now=NOW)

        return work

    outcomes = race(
        Job(clinic.a, opening(clinic.doctor_a, patients[0]), r"\bUPDATE number_sequence\b"),
        Job(clinic.b, opening(clinic.doctor_b, patients[1]), r"\bUPDATE number_sequence\b"),
        must_meet=False,
    )
    assert all(o.ok for o in outcomes), outcomes
    with clinic.sessions() as s:
        numbers = sorted(s.scalars(select(SickLeave.number)))
    assert numbers == ["000000000001", "000000000002"]
