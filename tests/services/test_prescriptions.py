"""Prescriptions: every rule with its field, the three blanks' numbering, the signa's Russian,
the EMK documents and audit, cancelling, the print data, and who may write — on SQLite and
PostgreSQL; 148-1/у-04(л) numbers from two workstations at once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services import drugs, prescriptions
from services.audit import Actor
from services.clock import clinic_tz, local_day, now_utc
from services.errors import AccessDenied, ConflictError, ValidationError, ValidationErrors
from services.models import (
    AuditEvent,
    DocKind,
    DocumentDiagnosis,
    EmkDocument,
    Patient,
    Prescription,
    PrescriptionForm,
    Role,
    Sex,
)
from services.prescription_desk import PrescriptionDesk
from services.prescriptions import ItemInput, PrescriptionInput, PrescriptionStatus
from services.printouts import PrintJob, archive
from tests.factories import base_org, colleague, person
from tests.services.test_schedule_pg import Job, Polyclinic, race

F = PrescriptionForm
DAY = local_day(now_utc())  # the desk works on the real clock; the rest is pinned to DAY
NOW = dt.datetime.combine(DAY, dt.time(10, 0), clinic_tz()).astimezone(dt.UTC)

AMLO = ItemInput("amlodipine", "tab", "5 мг", 30, 1, 1, 30)
BISO = ItemInput("bisoprolol", "tab", "2,5 мг", 30, 1, 1, 30, note="утром")
METF = ItemInput("metformin", "tab", "850 мг", 60, 1, 2, 30, note="после еды")
SERT = ItemInput("sertraline", "tab", "50 мг", 30, 1, 1, 30)
TRAM = ItemInput("tramadol", "caps", "50 мг", 20, 1, 2, 10)
FENT = ItemInput("fentanyl", "tts", "25 мкг/ч", 10, 1, 1, 30, every_days=3)
RX107 = PrescriptionInput(F.F107, (AMLO, BISO))
PREF = PrescriptionInput(
    F.F148_04L,
    (METF,),
    mkb_code="E11.9",
    benefit_category="081",
    funding_source=1,
    payment_percent=1,
)
NARC = PrescriptionInput(F.F148_88, (FENT,), series="45АБ", number="123456")


class World:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.doctor, self.dept = base_org(sessions)
        self.registrar = colleague(sessions, self.dept, "Смирнова", Role.REGISTRAR)
        self.patient = person(sessions, self.doctor, "Иванова", "Мария", "Петровна").id
        self.baby = person(
            sessions,
            self.doctor,
            "Сидоров",
            "Пётр",
            "Ильич",
            sex=Sex.MALE,
            birth=DAY - dt.timedelta(days=130),
        ).id
        self.uninsured = person(sessions, self.doctor, "Петров", "Олег", with_ids=False).id

    def issue(
        self, *inputs: PrescriptionInput, patient: int | None = None, now: dt.datetime = NOW
    ) -> list[int]:
        with self.sessions() as s:
            return prescriptions.issue(s, self.doctor, patient or self.patient, inputs, now=now)

    def row(self, rid: int, today: dt.date = DAY) -> prescriptions.PrescriptionRow:
        with self.sessions() as s:
            return prescriptions.get(s, rid, today=today)

    def print_data(self, rid: int) -> prescriptions.PrescriptionPrint:
        with self.sessions() as s:
            return prescriptions.print_data(s, rid)


@pytest.fixture
def w(sessions: sessionmaker[Session]) -> World:
    return World(sessions)


# --- issuing ----------------------------------------------------------------------------------
def test_an_ordinary_prescription_with_two_drugs_is_one_emk_document(w: World) -> None:
    (rid,) = w.issue(RX107)
    row = w.row(rid)
    assert row.form == F.F107
    assert (row.series, row.number) == ("", "")
    assert row.valid_until == DAY + dt.timedelta(60)
    assert row.status == PrescriptionStatus.VALID
    assert [(x.mnn, x.strength, x.quantity) for x in row.items] == [
        ("Амлодипин", "5 мг", 30),
        ("Бисопролол", "2,5 мг", 30),
    ]
    assert row.items[0].signa == "Внутрь по 1 таблетке 1 раз в день, в течение 30 дней."
    assert row.items[1].signa == "Внутрь по 1 таблетке 1 раз в день, утром, в течение 30 дней."
    assert row.doctor == "Петрова А. С."
    with w.sessions() as s:
        doc = s.get(EmkDocument, row.document_id)
        assert doc is not None
        assert doc.kind == DocKind.PRESCRIPTION
        assert doc.title.startswith("Рецепт 107-1/у: Амлодипин 5 мг, Бисопролол 2,5 мг")
        assert "Tab. Amlodipini 5 mg N 30" in str(doc.body["sections"])
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "prescription.issue")
        ).all()
        assert [(e.object_id, e.patient_id) for e in events] == [(rid, w.patient)]
        assert "amlodipine 5 мг N30" in events[0].details


def test_preferential_prescriptions_are_numbered_in_the_region_series(w: World) -> None:
    first, second = w.issue(PREF, replace(PREF, validity_days=90))
    a, b = w.row(first), w.row(second)
    assert (a.series, a.number) == ("45", "000001")
    assert (b.series, b.number) == ("45", "000002")
    assert a.valid_until == DAY + dt.timedelta(30)
    assert b.valid_until == DAY + dt.timedelta(90)
    (third,) = w.issue(PREF)
    assert w.row(third).number == "000003"
    with w.sessions() as s:
        doc = s.get(EmkDocument, a.document_id)
        assert doc is not None
        assert "серия 45 № 000001" in doc.title
        codes = s.scalars(
            select(DocumentDiagnosis.code).where(DocumentDiagnosis.document_id == doc.id)
        ).all()
        assert codes == ["E11.9"]


def test_a_print_shop_blank_is_used_once(w: World) -> None:
    (rid,) = w.issue(NARC)
    row = w.row(rid)
    assert (row.series, row.number, row.valid_until) == ("45АБ", "123456", DAY + dt.timedelta(15))
    assert row.items[0].signa == ("Трансдермально по 1 пластырю 1 раз в 3 дня, в течение 30 дней.")
    with pytest.raises(ConflictError, match="серии 45АБ № 123456 уже использован"):
        w.issue(replace(NARC, items=(TRAM,)))
    (other,) = w.issue(replace(NARC, number="123457", items=(TRAM,)))
    assert w.row(other).number == "123457"


def test_no_policy_no_preferential_prescription_but_an_ordinary_one(w: World) -> None:
    with pytest.raises(ValidationErrors) as e:
        w.issue(PREF, patient=w.uninsured)
    (err,) = e.value.errors
    assert err.field == "Полис ОМС"
    assert "льготный рецепт 148-1/у-04(л) без него не выписывают" in err.rule
    (rid,) = w.issue(RX107, patient=w.uninsured)
    assert w.row(rid).form == F.F107


def test_a_broken_blank_in_the_batch_stores_nothing_and_names_every_rule(w: World) -> None:
    bad = replace(PREF, benefit_category="", items=(replace(METF, quantity=61),))
    with pytest.raises(ValidationErrors) as e:
        w.issue(RX107, bad)
    fields = {(x.field, x.rule) for x in e.value.errors}
    assert ("Рецепт 2: Код категории граждан", "от 1 до 3 цифр (178-ФЗ ст. 6.1)") in fields
    assert any(
        f == "Рецепт 2: Препарат: Количество" and "больше, чем нужно на курс" in r
        for f, r in fields
    ), fields
    with w.sessions() as s:
        assert s.scalar(select(func.count(Prescription.id))) == 0
        assert s.scalar(select(func.count(EmkDocument.id))) == 0


# --- every rule, with its field ---------------------------------------------------------------
def item(**kw: object) -> ItemInput:
    return replace(AMLO, **kw)  # type: ignore[arg-type]


RULES: list[tuple[str, PrescriptionInput, str, str]] = [
    (
        "four drugs on 107-1/у",
        PrescriptionInput(
            F.F107,
            (AMLO, BISO, METF, ItemInput("atorvastatin", "tab", "20 мг", 30, 1, 1, 30)),
        ),
        "Препараты",
        "не больше 3 препаратов (1094н прил. 3 п. 15)",
    ),
    (
        "an antidepressant with another drug on 107-1/у",
        PrescriptionInput(F.F107, (AMLO, SERT)),
        "Препараты",
        "«Сертралин» выписывают на отдельном бланке",
    ),
    (
        "two drugs on 148-1/у-04(л)",
        replace(PREF, items=(METF, AMLO)),
        "Препараты",
        "на бланке 148-1/у-04(л) — один препарат (1094н прил. 3 п. 15)",
    ),
    (
        "two drugs on 148-1/у-88",
        replace(NARC, items=(FENT, TRAM)),
        "Препараты",
        "на бланке 148-1/у-88 — один препарат",
    ),
    (
        "a 148-1/у-88 drug on 107-1/у",
        PrescriptionInput(F.F107, (TRAM,)),
        "Препарат: Бланк",
        "«Трамадол» выписывают только на бланке 148-1/у-88 (1094н прил. 1 п. 9)",
    ),
    (
        "a 148-1/у-88 drug on 148-1/у-04(л)",
        replace(PREF, items=(TRAM,)),
        "Препарат: Бланк",
        "«Трамадол» выписывают только на бланке 148-1/у-88",
    ),
    (
        "an ordinary drug on 148-1/у-88",
        replace(NARC, items=(AMLO,)),
        "Препарат: Бланк",
        "«Амлодипин» — на бланке 107-1/у",
    ),
    (
        "a drug not in the catalog",
        PrescriptionInput(F.F107, (item(drug_id="aspirin-forte"),)),
        "Препарат",
        "выберите препарат из справочника",
    ),
    (
        "a form the drug does not have",
        PrescriptionInput(F.F107, (item(form="caps"),)),
        "Препарат: Лекарственная форма",
        "у «Амлодипин» в справочнике: таблетки",
    ),
    (
        "a strength the form does not have",
        PrescriptionInput(F.F107, (item(strength="7,5 мг"),)),
        "Препарат: Дозировка",
        "выберите из справочника: 5 мг, 10 мг",
    ),
    (
        "more than the course needs",
        PrescriptionInput(F.F107, (item(quantity=31),)),
        "Препарат: Количество",
        "больше, чем нужно на курс по сигнатуре: 30 таблеток на 30 дней",
    ),
    (
        "more inhalers than the course needs",
        PrescriptionInput(F.F107, (ItemInput("salbutamol", "aer", "100 мкг/доза", 2, 2, 4, 20),)),
        "Препарат: Количество",
        "1 ингалятор на 20 дней",
    ),
    (
        "more patches than the order's per-prescription limit",
        replace(
            NARC,
            items=(ItemInput("buprenorphine", "tts", "35 мкг/ч", 21, 1, 1, 60, every_days=4),),
        ),
        "Препарат: Количество",
        "не больше 20 пластырей на один рецепт (1094н, предельно допустимое количество)",
    ),
    (
        "no quantity",
        PrescriptionInput(F.F107, (item(quantity=0),)),
        "Препарат: Количество",
        "не меньше 1",
    ),
    (
        "no dose",
        PrescriptionInput(F.F107, (item(dose=0),)),
        "Препарат: Разовая доза",
        "больше нуля",
    ),
    (
        "no intakes",
        PrescriptionInput(F.F107, (item(times_per_day=0),)),
        "Препарат: Приёмов в день",
        "от 1 до 12",
    ),
    (
        "a course longer than 107-1/у holds",
        PrescriptionInput(F.F107, (item(duration_days=61, quantity=61),)),
        "Препарат: Длительность курса",
        "не больше 60 дней на бланке 107-1/у",
    ),
    (
        "a 30-day preferential prescription for 90 days",
        replace(PREF, items=(replace(METF, duration_days=90, quantity=180),)),
        "Препарат: Длительность курса",
        "не больше 30 дней на бланке 148-1/у-04(л)",
    ),
    (
        "the same drug twice",
        PrescriptionInput(F.F107, (AMLO, AMLO)),
        "Препараты",
        "один и тот же препарат дважды на одном бланке",
    ),
    (
        "107-1/у for 90 days",
        replace(RX107, validity_days=90),
        "Срок действия",
        "60 дней; до 1 года — только «По специальному назначению» (1094н прил. 1 п. 23)",
    ),
    (
        "a special prescription without its dispensing interval",
        replace(RX107, special_purpose=True, validity_days=180),
        "Периодичность отпуска",
        "обязательна для рецепта «По специальному назначению» (1094н прил. 1 п. 23)",
    ),
    (
        "a special prescription for more than a year",
        replace(RX107, special_purpose=True, validity_days=400, dispense_every_days=30),
        "Срок действия",
        "больше 60 дней, до 1 года",
    ),
    (
        "«по специальному назначению» on 148-1/у-04(л)",
        replace(PREF, special_purpose=True, dispense_every_days=30),
        "По специальному назначению",
        "только на бланке 107-1/у (1094н прил. 1 п. 23)",
    ),
    (
        "148-1/у-04(л) for 60 days",
        replace(PREF, validity_days=60),
        "Срок действия",
        "15, 30 или 90 дней (1094н прил. 1 пп. 21–22)",
    ),
    (
        "148-1/у-88 for 30 days",
        replace(NARC, validity_days=30),
        "Срок действия",
        "рецепт 148-1/у-88 действителен 15 дней (1094н прил. 1 п. 20)",
    ),
    (
        "a four-digit benefit category",
        replace(PREF, benefit_category="1234"),
        "Код категории граждан",
        "от 1 до 3 цифр (178-ФЗ ст. 6.1)",
    ),
    (
        "no financing source",
        replace(PREF, funding_source=None),
        "Источник финансирования",
        "1 — федеральный бюджет, 2 — бюджет субъекта РФ, 3 — муниципальный бюджет",
    ),
    (
        "a wrong % paid",
        replace(PREF, payment_percent=4),
        "% оплаты",
        "1 — бесплатно, 2 — 50 %, 3 — иной",
    ),
    (
        "no diagnosis on 148-1/у-04(л)",
        replace(PREF, mkb_code=""),
        "Диагноз по МКБ-10",
        "укажите код",
    ),
    (
        "a drug off the federal list at the federal budget's cost",
        replace(
            PREF, mkb_code="I10", items=(ItemInput("valsartan", "tab", "80 мг", 30, 1, 1, 30),)
        ),
        "Препарат",
        "«Валсартан» нет в перечне для льготного обеспечения за счёт федерального бюджета",
    ),
    (
        "benefit fields on 107-1/у",
        replace(RX107, benefit_category="081"),
        "Льгота",
        "только на бланке 148-1/у-04(л)",
    ),
    (
        "148-1/у-88 without the blank's series",
        replace(NARC, series=""),
        "Серия бланка",
        "обязательное поле — как напечатана на бланке",
    ),
    (
        "148-1/у-88 with a wrong number",
        replace(NARC, number="12-34"),
        "Номер бланка",
        "цифры, до 10 знаков",
    ),
    (
        "a series typed for 107-1/у",
        replace(RX107, series="45"),
        "Серия бланка",
        "вводится только для бланка 148-1/у-88",
    ),
    (
        "no drugs",
        PrescriptionInput(F.F107, ()),
        "Препараты",
        "добавьте препарат",
    ),
    (
        "a 5th-character МКБ code on the five cells of 148-1/у-04(л)",
        replace(PREF, mkb_code="S02.00"),
        "Диагноз по МКБ-10",
        "на бланке 148-1/у-04(л) 5 клеток: выберите рубрику S02.0",
    ),
]


@pytest.mark.parametrize(("case", "inp", "field", "rule"), RULES, ids=[r[0] for r in RULES])
def test_each_rule_names_its_field(
    case: str, inp: PrescriptionInput, field: str, rule: str
) -> None:
    with pytest.raises(ValidationErrors) as e:
        prescriptions.validate(inp)
    assert any(x.field == field and rule in x.rule for x in e.value.errors), (
        case,
        [(x.field, x.rule) for x in e.value.errors],
    )


def test_a_second_drug_of_several_is_named_by_its_number() -> None:
    bad = PrescriptionInput(F.F107, (AMLO, replace(BISO, strength="3 мг")))
    with pytest.raises(ValidationErrors) as e:
        prescriptions.validate(bad)
    assert [(x.field, x.key) for x in e.value.errors] == [("Препарат 2: Дозировка", "strength")]


def test_what_passes_comes_back_tidied_with_the_defaults() -> None:
    ok = prescriptions.validate(replace(PREF, mkb_code="Е11ю9", benefit_category=" 81 "))
    assert (ok.mkb_code, ok.benefit_category, ok.validity_days) == ("E11.9", "81", 30)
    special = prescriptions.validate(replace(RX107, special_purpose=True, dispense_every_days=30))
    assert special.validity_days == 365
    assert prescriptions.validate(replace(NARC, series="45аб")).series == "45АБ"


# --- the signa ----------------------------------------------------------------------------------
def form(drug_id: str, code: str) -> drugs.DosageForm:
    d = drugs.drug(drug_id)
    assert d is not None
    f = d.form(code)
    assert f is not None
    return f.form


@pytest.mark.parametrize(
    ("it", "drug_form", "text"),
    [
        (
            item(dose=2, times_per_day=3, duration_days=5),
            ("amlodipine", "tab"),
            "Внутрь по 2 таблетки 3 раза в день, в течение 5 дней.",
        ),
        (
            item(dose=0.5, duration_days=21),
            ("amlodipine", "tab"),
            "Внутрь по 0,5 таблетки 1 раз в день, в течение 21 дня.",
        ),
        (
            item(dose=5, times_per_day=2, duration_days=1),
            ("amlodipine", "tab"),
            "Внутрь по 5 таблеток 2 раза в день, в течение 1 дня.",
        ),
        (
            ItemInput("ambroxol", "syr", "15 мг/5 мл", 1, 5, 3, 7),
            ("ambroxol", "syr"),
            "Внутрь по 5 мл 3 раза в день, в течение 7 дней.",
        ),
        (
            ItemInput("insulin_glargine", "pen", "100 ЕД/мл 3 мл", 1, 12, 1, 25),
            ("insulin_glargine", "pen"),
            "Подкожно по 12 ЕД 1 раз в день, в течение 25 дней.",
        ),
        (
            ItemInput("nitroglycerin", "tab_sl", "0,5 мг", 10, 1, 1, 10, note="при болях"),
            ("nitroglycerin", "tab_sl"),
            "Под язык по 1 таблетке 1 раз в день, при болях, в течение 10 дней.",
        ),
        (
            ItemInput("salbutamol", "aer", "100 мкг/доза", 1, 2, 4, 11),
            ("salbutamol", "aer"),
            "Ингаляционно по 2 вдоха 4 раза в день, в течение 11 дней.",
        ),
        (
            ItemInput(
                "diclofenac", "sol_im", "25 мг/мл 3 мл", 5, 1, 1, 5, route="внутримышечно глубоко"
            ),
            ("diclofenac", "sol_im"),
            "Внутримышечно глубоко по 1 ампуле 1 раз в день, в течение 5 дней.",
        ),
    ],
)
def test_the_signa_is_built_in_russian(
    it: ItemInput, drug_form: tuple[str, str], text: str
) -> None:
    assert prescriptions.signa(it, form(*drug_form)) == text


# --- status and cancelling ------------------------------------------------------------------
def test_a_prescription_expires_by_date_and_is_cancelled_with_a_reason(w: World) -> None:
    (rid,) = w.issue(RX107)
    assert w.row(rid, DAY + dt.timedelta(60)).status == PrescriptionStatus.VALID
    assert w.row(rid, DAY + dt.timedelta(61)).status == PrescriptionStatus.EXPIRED
    with w.sessions() as s, pytest.raises(ValidationError, match="обязательное поле"):
        prescriptions.cancel(s, w.doctor, rid, "  ", now=NOW)
    with w.sessions() as s:
        prescriptions.cancel(s, w.doctor, rid, "Ошибка в дозировке", now=NOW)
    row = w.row(rid)
    assert (row.status, row.cancel_reason) == (PrescriptionStatus.CANCELLED, "Ошибка в дозировке")
    assert row.status.text == "аннулирован"
    with w.sessions() as s, pytest.raises(ConflictError, match="уже аннулирован"):
        prescriptions.cancel(s, w.doctor, rid, "ещё раз", now=NOW)
    with w.sessions() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "prescription.cancel"))
        assert event is not None
        assert (event.object_id, event.details) == (rid, "Ошибка в дозировке")


def test_the_patients_list_is_newest_first(w: World) -> None:
    (old,) = w.issue(RX107, now=NOW - dt.timedelta(days=3))
    (new,) = w.issue(PREF)
    with w.sessions() as s:
        rows = prescriptions.patient_prescriptions(s, w.patient, today=DAY)
    assert [r.id for r in rows] == [new, old]
    assert rows[0].items[0].form_name == "таблетки"


# --- print data -------------------------------------------------------------------------------
def test_print_data_of_a_preferential_prescription(w: World) -> None:
    (rid,) = w.issue(PREF)
    data = w.print_data(rid)
    with w.sessions() as s:
        p = s.get(Patient, w.patient)
        assert p is not None
        snils, policy = p.snils, p.policy_number
    assert snils is not None
    assert data.form_number == "148-1/у-04(л)"
    assert (data.series, data.number, data.issued_on) == ("45", "000001", DAY)
    assert data.organisation_name == "ГБУЗ «ГП № 1»"
    assert data.ogrn == "1027700000001"
    assert (data.organisation_phone, data.okpo) == ("", "")  # not stored yet
    assert data.patient_name == "Иванова М. П."
    assert data.birth_date == dt.date(1985, 3, 12)
    assert (data.child, data.age_months) == (False, None)
    assert data.snils == f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"
    assert data.policy_number == policy
    assert data.card_number == str(w.patient)
    assert data.address == "г. Москва, ул. Профсоюзная, д. 1"
    assert (data.doctor_name, data.doctor_position) == (
        "Петрова А. С.",
        "Врач-терапевт участковый",
    )
    assert (data.benefit_category, data.mkb_code) == ("081", "E11.9")
    assert (data.funding_source, data.payment_percent) == (1, 1)
    assert (data.validity_days, data.valid_until) == (30, DAY + dt.timedelta(30))
    (it,) = data.items
    assert it.drug == "Metformini (Метформин)"
    assert (it.form, it.strength, it.form_latin) == ("таблетки", "850 мг", "Tab.")
    assert it.rp == "Tab. Metformini 850 mg"
    assert it.quantity_text == "№ 60 (шестьдесят)"
    assert it.quantity_units == "60 таблеток"
    assert it.dtd == "D.t.d. N 60"
    assert it.signa == "Внутрь по 1 таблетке 2 раза в день, после еды, в течение 30 дней."
    assert (it.route, it.days, it.times_per_day, it.per_dose) == ("внутрь", 30, 2, "1 таблетка")
    assert data.copy_no == 1
    job = PrintJob(
        w.patient, "148-1/у-04(л)", "Рецепт", "prescription", rid, data.document_id, 1, b"%PDF"
    )
    with w.sessions() as s:
        archive(s, w.doctor, job)
    assert w.print_data(rid).copy_no == 2


def test_print_data_of_a_babys_special_prescription(w: World) -> None:
    special = PrescriptionInput(
        F.F107,
        (ItemInput("colecalciferol", "drops", "15000 МЕ/мл 10 мл", 1, 1, 1, 90),),
        special_purpose=True,
        validity_days=180,
        dispense_every_days=30,
    )
    (rid,) = w.issue(special, patient=w.baby)
    data = w.print_data(rid)
    assert data.child is True
    assert data.age_months == prescriptions.full_months(DAY - dt.timedelta(days=130), DAY)
    assert data.age_months in (4, 3)
    assert data.patient_name == "Сидоров П. И."
    assert (data.special_purpose, data.dispense_interval) == (True, "1 раз в 30 дней")
    (it,) = data.items
    assert it.quantity_units == "1 флакон"
    assert it.per_dose == "1 капля"
    assert it.rp == "Gtt. Colecalciferoli 15000 IU/ml 10 ml"


def test_full_months() -> None:
    assert prescriptions.full_months(dt.date(2026, 1, 31), dt.date(2026, 3, 30)) == 1
    assert prescriptions.full_months(dt.date(2026, 1, 15), dt.date(2026, 3, 15)) == 2


# --- who may write ----------------------------------------------------------------------------
def test_a_registrar_may_not_write_or_read_prescriptions(w: World) -> None:
    registrar = PrescriptionDesk(w.sessions, w.registrar)
    with pytest.raises(AccessDenied, match="записи в медицинской карте"):
        registrar.issue(w.patient, [RX107])
    with pytest.raises(AccessDenied):
        registrar.of_patient(w.patient)
    doctor = PrescriptionDesk(w.sessions, w.doctor, region_code="77")
    (row,) = doctor.issue(w.patient, [PREF])
    assert (row.series, row.number) == ("77", "000001")  # the site's region
    with pytest.raises(AccessDenied):
        registrar.cancel(row.id, "ошибка")
    with pytest.raises(AccessDenied):
        registrar.print_data(row.id)
    assert [r.id for r in doctor.of_patient(w.patient)] == [row.id]
    assert doctor.print_data(row.id).series == "77"
    assert doctor.cancel(row.id, "ошибка").status == PrescriptionStatus.CANCELLED
    assert [d.mnn for d in registrar.search_drugs("метф")] == ["Метформин"]
    with w.sessions() as s:
        denied = s.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "access.denied")
        ).all()
    assert "prescription.issue: record.write" in denied


# --- two workstations numbering 148-1/у-04(л) at once ---------------------------------------
@pytest.fixture
def clinic(fresh_pg_url: str) -> Iterator[Polyclinic]:
    c = Polyclinic(fresh_pg_url)
    yield c
    c.close()


@pytest.mark.pg
@pytest.mark.parametrize("hold", [None, r"\bUPDATE number_sequence\b"], ids=["free", "forced"])
def test_two_workstations_never_share_a_preferential_number(
    clinic: Polyclinic, hold: str | None
) -> None:
    patient = clinic.patient("Абрамов")

    def issuing(actor: Actor) -> Callable[[Session], list[int]]:
        def work(s: Session) -> list[int]:
            return prescriptions.issue(s, actor, patient, [PREF, PREF], now=NOW)

        return work

    for _ in range(5):
        outcomes = race(
            Job(clinic.a, issuing(clinic.doctor_a), hold),
            Job(clinic.b, issuing(clinic.doctor_b), hold),
            must_meet=False,  # the first UPDATE holds the row: the other waits for its commit
        )
        assert all(o.ok for o in outcomes), outcomes
    with clinic.sessions() as s:
        numbers = [n or "" for n in s.scalars(select(Prescription.number))]
    assert sorted(numbers) == [f"{i:06d}" for i in range(1, 21)]
