"""Years of medical history for the demo patients, so that the EMK screen opens full.

Every patient on the demo schedules gets a record of 10–40 documents over the last 2–6 years;
the patients the demo doctor (staff id 1) sees today get 60–150 over 5–8 years; the rest of the
list gets nothing or a few documents.  A patient's history follows from a small profile drawn
first — age, sex, chronic conditions with their onset, allergies, whether they smoke or work —
so the pieces agree: a diabetic's glucose and HbA1c start high and improve under treatment, a
hypertensive's cholesterol drifts up, a chronic diagnosis is «впервые установленное» once and
«известное ранее» afterwards and stands on the dispensary list from that day, a penicillin
allergy keeps amoxicillin out of the recommendations.  The visits of the demo fortnight get the
protocol their doctor wrote (linked to the encounter), and a specialist's visit by referral the
therapist's referral before it.

Everything is drawn from one ``random.Random`` per patient, seeded from the caller's generator
and the patient id, so a seed and ``today`` always give the same record.

Speed matters as in :mod:`services.demo` (the user waits on the splash screen): events are
planned cheaply and only as many written as the record is to hold; rows go to the driver's
executemany with ids taken beforehand (see "writing" below).  The search text and the lab flags
are derived exactly as :func:`services.emk.add_document` derives them, which the tests check by
writing sample documents again through it.  About 24,000 documents for the 5,000-patient demo
add ~6 s on a small two-core machine.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from services.emk import NewDiagnosis, NewLab, author_line, lab_flag, number_ru, search_text_of
from services.lab_types import LabFlag
from services.mkb10 import catalog
from services.models import (
    Allergy,
    AllergySeverity,
    Appointment,
    BloodType,
    DiagnosisCharacter,
    DiagnosisRole,
    DispensaryCondition,
    DocKind,
    DocumentDiagnosis,
    EmkDocument,
    Encounter,
    LabResult,
    ScheduleSlot,
    Sex,
    Staff,
    VisitType,
)

__all__ = [
    "STUDY_UID_ROOT",
    "Author",
    "Authors",
    "HistoryPatient",
    "PatientHistory",
    "Visit",
    "load_authors",
    "patient_history",
    "seed_history",
    "write_histories",
]

#: pydicom's UID root for generated identifiers: fake studies, well-formed UIDs.
STUDY_UID_ROOT: Final = "1.2.826.0.1.3680043.8.498."

ACUTE, NEW, KNOWN = (
    DiagnosisCharacter.ACUTE,
    DiagnosisCharacter.CHRONIC_NEW,
    DiagnosisCharacter.CHRONIC_KNOWN,
)
MAIN, CONCOMITANT = DiagnosisRole.MAIN, DiagnosisRole.CONCOMITANT


class _Tier(NamedTuple):
    """How full a kind of patient's record is."""

    least: int  # documents
    most: int
    years: tuple[float, float]
    density: float  # how eventful the years are (1: an ordinary patient's rate of illness)
    skew: float  # the size is drawn as least + (most − least)·u^skew: 1 uniform, more: short

    def draw(self, rng: random.Random) -> tuple[tuple[int, int], float]:
        """(least, most) documents and years for one patient."""
        most = self.least + round((self.most - self.least) * rng.random() ** self.skew)
        return (self.least, most), rng.uniform(*self.years)


# Today's patients of the doctor the demo signs in as: thick records.  Everyone else on the
# schedules: most records modest (10–15 documents), a few up to 40 — what keeps the demo quick.
_FOCUS: Final = _Tier(60, 150, (5, 8), 2.2, 1.5)
_RICH: Final = _Tier(10, 40, (2, 6), 0.5, 12)
_SPARSE_SHARE: Final = 0.1  # of the patients off the schedules, who have a few documents
_ADULT: Final = 18
# A chronic condition is «известное ранее» on documents a week after it was first written down.
_SETTLED: Final = dt.timedelta(days=7)

# The lab changed its TSH analyser once: the reference range differs before and after.
_TSH_CHANGE_DAYS: Final = 900
_TSH_OLD: Final = (0.4, 4.0)
_TSH_NEW: Final = (0.27, 4.2)

# Text results a lab prints for "normal"; services.emk flags anything else «!» (A).


# --- who writes -------------------------------------------------------------------------------
class HistoryPatient(NamedTuple):
    id: int
    birth_date: dt.date
    sex: Sex


@dataclass(frozen=True)
class Author:
    """Who signs a document: a staff member (``staff_id``) or someone outside the registry."""

    staff_id: int | None
    name: str  # «Соколова А. С., врач-терапевт участковый»
    specialty: str
    position: str


# People outside the staff list: the lab, functional and ultrasound diagnostics, nurses.
_LAB = Author(
    None,
    "Зайцева Л. М., врач клинической лабораторной диагностики",
    "Клиническая лабораторная диагностика",
    "",
)
_FD = Author(
    None, "Егорова Н. В., врач функциональной диагностики", "Функциональная диагностика", ""
)
_US = Author(
    None, "Романов П. А., врач ультразвуковой диагностики", "Ультразвуковая диагностика", ""
)
_NURSE = Author(None, "Медведева О. И., медицинская сестра прививочного кабинета", "", "")
_MRI = Author(None, "Шубина Е. А., врач-рентгенолог", "Рентгенология", "Врач-рентгенолог")
_MRI_ORG = "ГБУЗ «Диагностический центр № 3 ДЗМ»"
_HOSPITALS: Final = (
    "ГБУЗ «Городская клиническая больница № 15 ДЗМ»",
    "ГБУЗ «Городская клиническая больница № 52 ДЗМ»",
    "ГБУЗ «Городская клиническая больница № 64 ДЗМ»",
)
_CHILD_HOSPITAL = "ГБУЗ «Детская городская клиническая больница № 9 ДЗМ»"
_HOSPITAL_DOCTORS: Final = (
    "Алексеев В. Г., врач-пульмонолог", "Борисова Е. Н., врач-кардиолог",
    "Гусев А. Д., врач-хирург", "Дмитриева С. В., врач-терапевт",
    "Ершова Т. А., врач-педиатр",
)  # fmt: skip
_FALLBACK_POSITION: Final = {
    "Терапия": "Врач-терапевт участковый",
    "Педиатрия": "Врач-педиатр участковый",
    "Неврология": "Врач-невролог",
    "Офтальмология": "Врач-офтальмолог",
    "Оториноларингология": "Врач-оториноларинголог",
    "Хирургия": "Врач-хирург",
    "Кардиология": "Врач-кардиолог",
    "Рентгенология": "Врач-рентгенолог",
}

# «Направление к врачу-кардиологу»: the dative of each specialty's doctor.
_TO_DOCTOR: Final = {
    "Неврология": "врачу-неврологу",
    "Офтальмология": "врачу-офтальмологу",
    "Оториноларингология": "врачу-оториноларингологу",
    "Хирургия": "врачу-хирургу",
    "Кардиология": "врачу-кардиологу",
    "Рентгенология": "врачу-рентгенологу",
}


class Authors:
    """The staff who sign the history, by specialty (the first few of each, by id)."""

    PER_SPECIALTY = 5

    def __init__(self, staff: Iterable[Author]) -> None:
        self.by_id: dict[int, Author] = {}
        self.by_specialty: dict[str, list[Author]] = {}
        for a in staff:
            if a.staff_id is not None:
                self.by_id[a.staff_id] = a
            same = self.by_specialty.setdefault(a.specialty, [])
            if len(same) < self.PER_SPECIALTY:
                same.append(a)

    def pick(self, rng: random.Random, specialty: str) -> Author:
        staff = self.by_specialty.get(specialty)
        if staff:
            return rng.choice(staff)
        position = _FALLBACK_POSITION.get(specialty, "Врач")
        return Author(None, f"Никольская Г. Р., {position.lower()}", specialty, position)


def load_authors(session: Session) -> Authors:
    """Active staff with a specialty, in id order (the demo's doctors come first)."""
    staff = session.scalars(
        select(Staff).where(Staff.active.is_(True), Staff.specialty != "").order_by(Staff.id)
    )
    return Authors(Author(st.id, author_line(st), st.specialty, st.position) for st in staff)


# --- what is written --------------------------------------------------------------------------
@dataclass
class _Doc:
    kind: DocKind
    at: dt.datetime  # aware, UTC
    title: str
    author: Author
    summary: str = ""
    sections: list[tuple[str, str]] = field(default_factory=list)
    specialty: str = ""
    organisation: str = ""
    diagnoses: list[NewDiagnosis] = field(default_factory=list)
    labs: list[NewLab] = field(default_factory=list)
    study_uid: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    encounter_id: int | None = None
    signed_at: dt.datetime | None = None
    keep: bool = False  # never dropped when the record is trimmed to its size
    visit: bool = False  # written at a visit of the demo's fortnight (the record's last days)


@dataclass
class PatientHistory:
    """One patient's generated record, not yet written."""

    patient_id: int
    documents: list[_Doc]
    allergies: list[tuple[str, str, AllergySeverity, dt.datetime, int | None]]
    conditions: list[tuple[str, dt.date, str, int | None]]  # code, since, specialty, noted by
    blood: tuple[str, str, dt.datetime, int | None] | None


@dataclass(frozen=True)
class Visit:
    """A demo schedule booking of the patient, with its encounter when the visit took place."""

    author: Author
    starts_at: dt.datetime
    visit_type: VisitType
    encounter_id: int | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


# --- lab tests --------------------------------------------------------------------------------
class _Test(NamedTuple):
    name: str
    unit: str
    decimals: int
    noise: float  # relative standard deviation between two takes


_TESTS: Final = {
    "HGB": _Test("Гемоглобин", "г/л", 0, 0.035),
    "RBC": _Test("Эритроциты", "×10¹²/л", 2, 0.04),
    "WBC": _Test("Лейкоциты", "×10⁹/л", 1, 0.14),
    "PLT": _Test("Тромбоциты", "×10⁹/л", 0, 0.1),
    "ESR": _Test("СОЭ", "мм/ч", 0, 0.3),
    "GLU": _Test("Глюкоза", "ммоль/л", 1, 0.06),
    "CHOL": _Test("Холестерин общий", "ммоль/л", 2, 0.06),
    "CREA": _Test("Креатинин", "мкмоль/л", 0, 0.07),
    "ALT": _Test("АЛТ", "Ед/л", 0, 0.22),
    "AST": _Test("АСТ", "Ед/л", 0, 0.18),
    "TSH": _Test("ТТГ", "мЕд/л", 2, 0.18),
    "HBA1C": _Test("Гликированный гемоглобин (HbA1c)", "%", 1, 0.03),
    "U-SG": _Test("Относительная плотность мочи", "", 3, 0.004),
    "U-PH": _Test("pH мочи", "", 1, 0.08),
    "U-LEU": _Test("Лейкоциты в моче", "в п/зр", 0, 0.5),
}
_CBC: Final = ("HGB", "RBC", "WBC", "PLT", "ESR")
_CBC_TITLE = "Общий анализ крови"
_BIO_TITLE = "Биохимический анализ крови"
_URINE_TITLE = "Общий анализ мочи"


def _ref(
    code: str, female: bool, child: bool, day: dt.date, today: dt.date
) -> tuple[float | None, float | None]:
    if code == "HGB":
        return (110, 140) if child else (120, 140) if female else (130, 160)
    if code == "RBC":
        return (3.7, 4.9) if child else (3.7, 4.7) if female else (4.0, 5.1)
    if code == "WBC":
        return (4.5, 11.0) if child else (4.0, 9.0)
    if code == "PLT":
        return (180, 400) if child else (180, 320)
    if code == "ESR":
        return (2, 10) if child or not female else (2, 15)
    if code == "GLU":
        return (3.3, 5.5) if child else (3.9, 6.1)
    if code == "CHOL":
        return (None, 5.2)
    if code == "CREA":
        return (27, 62) if child else (44, 80) if female else (62, 106)
    if code == "ALT":
        return (None, 33) if female else (None, 41)
    if code == "AST":
        return (None, 32) if female else (None, 40)
    if code == "TSH":
        return _TSH_NEW if day >= today - dt.timedelta(days=_TSH_CHANGE_DAYS) else _TSH_OLD
    if code == "HBA1C":
        return (4.0, 6.0)
    if code == "U-SG":
        return (1.010, 1.025)
    if code == "U-PH":
        return (5.0, 7.0)
    if code == "U-LEU":
        return (0, 5)
    raise KeyError(code)


# --- chronic conditions -----------------------------------------------------------------------
class _Chronic(NamedTuple):
    specialty: str  # who keeps the patient on the dispensary list
    interval: int  # days between follow-up visits at density 1
    dispensary: bool


_CHRONIC: Final = {
    "I10": _Chronic("Терапия", 120, True),
    "I11.9": _Chronic("Терапия", 120, True),
    "I25.1": _Chronic("Кардиология", 150, True),
    "E11.9": _Chronic("Терапия", 90, True),
    "E03.9": _Chronic("Терапия", 180, True),
    "K29.5": _Chronic("Терапия", 240, True),
    "M42.1": _Chronic("Неврология", 300, False),
    "L20.8": _Chronic("Педиатрия", 150, True),
}
_HYPERTENSION = ("I10", "I11.9")
_DISTRICT = ("Терапия", "Педиатрия")  # the district doctors' specialties
_PRESCRIBED = ("I10", "I11.9", "I25.1", "E11.9", "E03.9")  # conditions with a drug for life
_BP_DRUGS: Final = (
    "лизиноприл 10 мг утром", "периндоприл 5 мг утром", "лозартан 50 мг утром",
    "амлодипин 5 мг утром", "лизиноприл 10 мг + индапамид 1,5 мг утром",
    "валсартан 80 мг + амлодипин 5 мг утром",
)  # fmt: skip
_ALLERGENS: Final = (
    # substance, reaction, severity, weight
    ("Пенициллины", "Крапивница", AllergySeverity.MODERATE, 6),
    ("Амоксициллин", "Сыпь, зуд", AllergySeverity.MILD, 4),
    ("Ацетилсалициловая кислота", "Бронхоспазм", AllergySeverity.MODERATE, 3),
    ("Метамизол натрия", "Отёк Квинке", AllergySeverity.SEVERE, 1),
    ("Новокаин", "Анафилактический шок", AllergySeverity.SEVERE, 1),
    ("Цефтриаксон", "Крапивница", AllergySeverity.MODERATE, 2),
    ("Ибупрофен", "Крапивница, зуд", AllergySeverity.MILD, 2),
    ("Пыльца берёзы", "Ринит, конъюнктивит в апреле–мае", AllergySeverity.MILD, 6),
    ("Орехи", "Отёк губ, крапивница", AllergySeverity.MODERATE, 2),
    ("Цитрусовые", "Сыпь на щеках", AllergySeverity.MILD, 3),
    ("Йодсодержащие контрастные вещества", "Отёк Квинке", AllergySeverity.SEVERE, 1),
    ("Яд перепончатокрылых (пчёлы, осы)", "Анафилактическая реакция", AllergySeverity.SEVERE, 1),
    ("Шерсть кошки", "Ринит, чихание", AllergySeverity.MILD, 3),
)
_PENICILLINS = ("Пенициллины", "Амоксициллин")
_ABO: Final = (("0(I)", 0.33), ("A(II)", 0.69), ("B(III)", 0.92), ("AB(IV)", 1.0))


@dataclass
class _Profile:
    age: int
    female: bool
    smoker: bool
    working: bool
    privileged: bool  # на льготном лекарственном обеспечении
    chronic: dict[str, dt.date] = field(default_factory=dict)  # code → onset
    allergies: list[tuple[str, str, AllergySeverity]] = field(default_factory=list)
    bp_drug: str = ""

    @property
    def child(self) -> bool:
        return self.age < _ADULT

    def allergic_to(self, *substances: str) -> bool:
        return any(a[0] in substances for a in self.allergies)


def _ri(rng: random.Random, a: int, b: int) -> int:
    """``rng.randint(a, b)`` at a fraction of the cost (it is called a few hundred thousand
    times for the demo)."""
    return a + int(rng.random() * (b - a + 1))


def _draw_allergies(
    rng: random.Random, share: float = 0.15
) -> list[tuple[str, str, AllergySeverity]]:
    """About one patient in seven (``share``) has an allergy, one in five of them two."""
    if rng.random() >= share:
        return []
    weights = [w for *_, w in _ALLERGENS]
    picked = rng.choices(_ALLERGENS, weights=weights, k=1 + (rng.random() < 0.2))
    out: list[tuple[str, str, AllergySeverity]] = []
    for substance, reaction, severity, _ in picked:
        if all(substance != a[0] for a in out):
            out.append((substance, reaction, severity))
    return out


def _draw_blood(rng: random.Random) -> tuple[str, str] | None:
    """Group and Rh for the ~60 % whose blood group is on record."""
    if rng.random() >= 0.6:
        return None
    roll = rng.random()
    return next(g for g, upto in _ABO if roll < upto), "+" if rng.random() < 0.85 else "-"


def _dec(value: float, places: int = 1) -> str:
    return f"{value:.{places}f}".replace(".", ",")


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # a normal approximation is plenty for the bench's busy patient
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _anniversary(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return dt.date(day.year + years, 3, 1)


def _years_before(day: dt.date, years: float) -> dt.date:
    return day - dt.timedelta(days=round(years * 365.25))


# --- one patient's record ---------------------------------------------------------------------
class _Life:
    """Draws one patient's profile and writes their record, oldest event first."""

    def __init__(
        self,
        rng: random.Random,
        patient: HistoryPatient,
        *,
        today: dt.date,
        tz: dt.tzinfo,
        authors: Authors,
        organisation: str,
        years: float,
        density: float,
        district: Author | None,
        visits: Sequence[Visit],
        conditions: Sequence[str] = (),
        allergy_share: float = 0.15,
    ) -> None:
        self.rng = rng
        self.pt = patient
        self.today = today
        self.tz = tz
        self.authors = authors
        self.org = organisation
        self.density = density
        self.visits = visits
        self.conditions = conditions
        self.allergy_share = allergy_share
        self.docs: list[_Doc] = []
        self._planned: list[tuple[bool, Callable[[], None]]] = []
        self._taken: set[tuple[str, int]] = set()
        first_visit = min((v.starts_at for v in visits), default=None)
        last = today - dt.timedelta(days=1)
        if first_visit is not None:  # the fortnight's visits are written from the schedule
            last = min(last, first_visit.astimezone(tz).date() - dt.timedelta(days=1))
        self.end = last
        self.start = max(_years_before(today, years), patient.birth_date + dt.timedelta(days=30))
        self.profile = self._draw_profile()
        # The district doctors: the paediatrician while the patient was a child, then the
        # therapist; ``district`` (the doctor of their bookings) is the one of today.
        self.paediatrician = authors.pick(rng, "Педиатрия")
        self.therapist = authors.pick(rng, "Терапия")
        if district is not None:
            if district.specialty == "Педиатрия":
                self.paediatrician = district
            else:
                self.therapist = district
        self.district = self.paediatrician if self.profile.child else self.therapist
        self.lab = _LabModel(rng, self.profile, patient.birth_date, self.start, today)
        self.adult_from = _anniversary(patient.birth_date, _ADULT)

    # -- small helpers ---------------------------------------------------------------------
    def gp(self, day: dt.date) -> Author:
        """The patient's district doctor on ``day``."""
        return self.paediatrician if day < self.adult_from else self.therapist

    def g(self, male: str, female: str) -> str:
        return female if self.profile.female else male

    def age_on(self, day: dt.date) -> int:
        return _age_on(self.pt.birth_date, day)

    def day_between(self, a: dt.date, b: dt.date) -> dt.date:
        if b <= a:
            return a
        return a + dt.timedelta(days=_ri(self.rng, 0, (b - a).days))

    def at(self, day: dt.date, h0: int = 8, h1: int = 19, *, weekday: bool = True) -> dt.datetime:
        """A time on ``day`` between ``h0`` and ``h1`` local; weekends move to a weekday."""
        if weekday and day.weekday() >= 5:
            monday = day + dt.timedelta(days=7 - day.weekday())
            day = monday if monday <= self.end else day - dt.timedelta(days=day.weekday() - 4)
        minute = _ri(self.rng, h0 * 60, h1 * 60 - 1)
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), self.tz)
        return local.astimezone(dt.UTC)

    def later(self, when: dt.datetime, lo: int, hi: int) -> dt.datetime:
        """``lo``–``hi`` minutes after ``when``."""
        return when + dt.timedelta(minutes=_ri(self.rng, lo, hi))

    def local_day(self, when: dt.datetime) -> dt.date:
        return when.astimezone(self.tz).date()

    def due(self, day: dt.date, test: str, every: int) -> bool:
        """Whether ``test`` is taken around ``day``: at most once in each ``every`` days (fewer on
        a busier record), however often the patient is seen.  Periods, not the last date, so
        that events written in any order agree."""
        every = max(7, round(every / max(1.0, self.density) ** 0.75))  # busier: more often
        period = (test, day.toordinal() // every)
        if period in self._taken:
            return False
        self._taken.add(period)
        return True

    def known_on(self, day: dt.date) -> list[str]:
        """The chronic conditions diagnosed (and written down) a week or more before ``day``."""
        return [c for c, onset in self.profile.chronic.items() if onset + _SETTLED <= day]

    def chronic_dx(self, skip: str = "", on: dt.date | None = None) -> list[NewDiagnosis]:
        """The patient's other chronic conditions known by ``on``, as concomitant diagnoses."""
        codes = self.known_on(on) if on is not None else list(self.profile.chronic)
        return [NewDiagnosis(CONCOMITANT, c, KNOWN) for c in codes if c != skip][:3]

    def allergy_line(self) -> str:
        if not self.profile.allergies:
            return "Аллергологический анамнез: без особенностей."
        items = ", ".join(f"{s.lower()} ({r.lower()})" for s, r, _ in self.profile.allergies)
        return f"Аллергологический анамнез: непереносимость — {items}."

    # -- the profile -----------------------------------------------------------------------
    def _draw_profile(self) -> _Profile:
        rng = self.rng
        age = _age_on(self.pt.birth_date, self.today)
        female = self.pt.sex == Sex.FEMALE
        p = _Profile(
            age=age,
            female=female,
            smoker=age >= 18 and rng.random() < (0.18 if female else 0.38),
            working=18 <= age < 65 and rng.random() < 0.82,
            privileged=False,
        )
        chance: dict[str, float] = {}
        if age >= _ADULT:
            htn = min(0.65, max(0.0, (age - 30) / 55))
            chance["I11.9" if age >= 55 else "I10"] = htn
            chance["E11.9"] = 0.03 + (0.12 if age >= 45 else 0.0)
            chance["I25.1"] = 0.25 if age >= 60 else 0.06 if age >= 50 else 0.0
            chance["E03.9"] = (0.09 if female else 0.02) if age >= 25 else 0.0
            chance["K29.5"] = 0.14
            chance["M42.1"] = 0.3 if age >= 30 else 0.0
        else:
            chance["L20.8"] = 0.12 if age >= 1 else 0.0
        for v in self.visits:  # a booking with a specialist has a reason behind it
            if v.author.specialty == "Кардиология" and age >= _ADULT:
                chance["I11.9" if age >= 55 else "I10"] = 1.0
            elif v.author.specialty == "Неврология" and age >= 30:
                chance["M42.1"] = 1.0
        for code in self.conditions:
            chance[code] = 1.0
        for code, c in chance.items():
            if rng.random() < c:
                p.chronic[code] = self._onset(code)
        if "I25.1" in p.chronic and not any(c in p.chronic for c in _HYPERTENSION):
            code = "I11.9" if age >= 55 else "I10"
            p.chronic[code] = min(p.chronic["I25.1"], self._onset(code))
        p.chronic = dict(sorted(p.chronic.items(), key=lambda kv: kv[1]))
        # Free medicines (льготное обеспечение): most elderly chronic patients, some others.
        p.privileged = rng.random() < (0.7 if p.chronic and age >= 60 else 0.3)
        p.bp_drug = rng.choice(_BP_DRUGS)
        p.allergies = _draw_allergies(rng, self.allergy_share)
        return p

    def _onset(self, code: str) -> dt.date:
        """When the condition began: most before the record starts, some within it."""
        min_age = {"I10": 30, "I11.9": 40, "I25.1": 50, "E11.9": 40, "E03.9": 25,
                   "K29.5": 18, "M42.1": 28, "L20.8": 0}[code]  # fmt: skip
        earliest = self.pt.birth_date + dt.timedelta(days=round((min_age + 0.5) * 365.25))
        latest = self.end - dt.timedelta(days=60)
        if self.rng.random() < 0.35:  # found within the years the record covers
            earliest = max(earliest, self.start + dt.timedelta(days=20))
        else:
            earliest = max(earliest, _years_before(self.start, 15))
        # Too young for the usual age (a booking with a cardiologist at 25): found lately.
        earliest = max(min(earliest, latest), self.pt.birth_date)
        return self.day_between(earliest, latest)

    # -- the whole record ------------------------------------------------------------------
    def build(self, *, sparse: bool = False, most: int | None = None) -> list[_Doc]:
        """Draw the documents (oldest first); :meth:`finish` then adds the signal data.

        Events are planned first and written afterwards, the ones to keep first and the others
        in random order until ``most`` documents exist: a short record costs no more than its
        length (writing the text is what costs).
        """
        if sparse:
            self._sparse()
        else:
            self._yearly()
            for code in self.profile.chronic:
                self._chronic_course(code)
            self._acute_episodes()
            self._hospital()
            self._fortnight()
            self._write_planned(most)
        self.docs = [d for d in self.docs if self._within(d)]
        self.docs.sort(key=lambda d: d.at)
        return self.docs

    def plan(self, fn: Callable[..., None], *args: Any, keep: bool = False, **kw: Any) -> None:
        """Put an event in the plan; ``keep``: its documents stay when the record is trimmed."""
        self._planned.append((keep, functools.partial(fn, *args, **kw)))

    def _write_planned(self, most: int | None) -> None:
        must = [fn for keep, fn in self._planned if keep]
        rest = [fn for keep, fn in self._planned if not keep]
        for fn in must:
            self._write(fn, keep=True)
        self.rng.shuffle(rest)
        for fn in rest:
            if most is not None and len(self.docs) >= most:
                break
            self._write(fn, keep=False)
        self._planned.clear()

    def _write(self, fn: Callable[[], None], *, keep: bool) -> None:
        """Write one planned event; of its documents, keep those within the record's years."""
        done = len(self.docs)
        fn()
        new = [d for d in self.docs[done:] if self._within(d)]
        for d in new:
            d.keep = d.keep or keep
        self.docs[done:] = new

    def _within(self, d: _Doc) -> bool:
        day = self.local_day(d.at)
        return day <= self.end or (d.visit and day < self.today)

    def trim(self, most: int) -> None:
        """Drop random documents (never the ones marked ``keep``) down to ``most``."""
        extra = len(self.docs) - most
        if extra <= 0:
            return
        optional = [i for i, d in enumerate(self.docs) if not d.keep]
        drop = set(self.rng.sample(optional, min(extra, len(optional))))
        self.docs = [d for i, d in enumerate(self.docs) if i not in drop]

    def finish(self) -> PatientHistory:
        rng, p = self.rng, self.profile
        mentioned = {x.code for d in self.docs for x in d.diagnoses}
        conditions = [
            (code, onset, _CHRONIC[code].specialty, self.district.staff_id)
            for code, onset in p.chronic.items()
            if _CHRONIC[code].dispensary and code in mentioned
        ]
        noted = self.at(self.start, 9, 18)
        allergies = [
            (
                s,
                r,
                sev,
                self.at(self.day_between(self.start, self.end), 9, 18),
                self.district.staff_id,
            )
            for s, r, sev in p.allergies
        ]
        drawn = _draw_blood(rng)
        blood = (*drawn, noted, self.district.staff_id) if drawn is not None else None
        return PatientHistory(self.pt.id, self.docs, allergies, conditions, blood)

    def years(self) -> Iterable[dt.date]:
        """One anchor day per year of the record, oldest first."""
        day = self.start
        while day <= self.end:
            yield day
            day += dt.timedelta(days=365)

    # -- yearly: prevention, screening, vaccination ----------------------------------------
    def _yearly(self) -> None:
        rng, p = self.rng, self.profile
        # A quiet record skips some years' screening; a busy one misses none.
        f = min(1.0, self.density**0.6)
        for anchor in self.years():
            span_end = min(anchor + dt.timedelta(days=364), self.end)
            age = self.age_on(anchor)
            if age >= _ADULT:
                if rng.random() < 0.85 * f:
                    self.plan(self.fluorography, self.day_between(anchor, span_end))
                if rng.random() < (0.6 if age >= 40 else 0.3) * f:
                    self.plan(self.checkup, self.day_between(anchor, span_end))
            else:
                if age >= 15 and rng.random() < 0.7 * f:
                    self.plan(self.fluorography, self.day_between(anchor, span_end))
                if rng.random() < 0.9 * f:
                    self.plan(self.child_checkup, self.day_between(anchor, span_end))
            flu = 0.55 if age >= 60 or p.chronic else 0.35
            if rng.random() < flu * f:
                autumn = dt.date(anchor.year, 10, 1)
                if autumn < anchor:
                    autumn = dt.date(anchor.year + 1, 10, 1)
                day = autumn + dt.timedelta(days=_ri(rng, 0, 55))
                if day <= self.end:
                    self.plan(self.vaccination, day, "flu")
        self._calendar_vaccinations()

    def _calendar_vaccinations(self) -> None:
        birth, rng = self.pt.birth_date, self.rng
        plan: list[tuple[dt.date, str]] = []
        for months, kind in ((3, "penta1"), (4, "penta2"), (6, "penta3"), (12, "mmr1")):
            plan.append((birth + dt.timedelta(days=round(months * 30.4) + _ri(rng, 0, 20)), kind))
        plan.append((birth + dt.timedelta(days=round(6 * 365.25) + _ri(rng, 0, 90)), "adsm"))
        plan.append((birth + dt.timedelta(days=round(6 * 365.25) + _ri(rng, 0, 90)), "mmr2"))
        plan.append((birth + dt.timedelta(days=round(14 * 365.25) + _ri(rng, 0, 120)), "adsm"))
        if self.profile.age >= 24 and rng.random() < 0.2:  # АДС-М every ten years for adults
            plan.append((self.day_between(self.start, self.end), "adsm"))
        covid = dt.date(2021, 2, 1) + dt.timedelta(days=_ri(rng, 0, 300))
        if self.age_on(covid) >= _ADULT and rng.random() < 0.55:
            plan.append((covid, "covid1"))
            plan.append((covid + dt.timedelta(days=21), "covid2"))
            if rng.random() < 0.35:
                plan.append((covid + dt.timedelta(days=_ri(rng, 180, 260)), "covid_booster"))
        for day, kind in plan:
            if self.start <= day <= self.end:
                self.plan(self.vaccination, day, kind)

    def vaccination(self, day: dt.date, kind: str) -> None:
        rng = self.rng
        child = self.age_on(day) < _ADULT
        flu_vaccines = ("Гриппол плюс", "Ультрикс Квадри", "Совигрипп", "Флю-М")
        table = {
            "flu": ("Вакцинация против гриппа", "грипп",
                    rng.choice(flu_vaccines[:2] if child else flu_vaccines), "0,5 мл"),
            "penta1": ("Вакцинация: АКДС + ИПВ + Hib (V1)", "дифтерия, коклюш, столбняк, "
                       "полиомиелит, Hib-инфекция", "Пентаксим", "0,5 мл"),
            "penta2": ("Вакцинация: АКДС + ИПВ + Hib (V2)", "дифтерия, коклюш, столбняк, "
                       "полиомиелит, Hib-инфекция", "Пентаксим", "0,5 мл"),
            "penta3": ("Вакцинация: АКДС + ИПВ + Hib (V3)", "дифтерия, коклюш, столбняк, "
                       "полиомиелит, Hib-инфекция", "Пентаксим", "0,5 мл"),
            "mmr1": ("Вакцинация против кори, краснухи, паротита", "корь, краснуха, паротит",
                     "Вактривир", "0,5 мл"),
            "mmr2": ("Ревакцинация против кори, краснухи, паротита", "корь, краснуха, паротит",
                     "Вактривир", "0,5 мл"),
            "adsm": ("Ревакцинация АДС-М", "дифтерия, столбняк", "АДС-М-анатоксин", "0,5 мл"),
            "covid1": ("Вакцинация против COVID-19 (компонент I)", "COVID-19",
                       "Гам-КОВИД-Вак (Спутник V), компонент I", "0,5 мл"),
            "covid2": ("Вакцинация против COVID-19 (компонент II)", "COVID-19",
                       "Гам-КОВИД-Вак (Спутник V), компонент II", "0,5 мл"),
            "covid_booster": ("Ревакцинация против COVID-19", "COVID-19", "Спутник Лайт",
                              "0,5 мл"),
        }  # fmt: skip
        title, infection, vaccine, dose = table[kind]
        series = f"{rng.choice('ABCEKMHPTX')}{_ri(rng, 100, 999)}-{_ri(rng, 10, 99)}"
        site = (
            "в переднебоковую поверхность бедра" if self.age_on(day) < 3 else "в дельтовидную мышцу"
        )
        reaction = rng.choice(
            ("Общих и местных реакций не отмечено.", "Общих и местных реакций не отмечено.",
             "Местная реакция: гиперемия до 2 см в месте введения, прошла через сутки.",
             "Повышение температуры до 37,4 °C в первые сутки.")
        )  # fmt: skip
        when = self.at(day, 9, 17)
        self.docs.append(
            _Doc(
                DocKind.VACCINATION, when, title, _NURSE,
                summary=f"{vaccine}, {dose}, серия {series}",
                sections=[
                    ("Препарат", f"{vaccine}, серия {series}"),
                    ("Доза и способ введения", f"{dose} внутримышечно {site}"),
                    ("Допуск", f"Осмотрен{self.g('', 'а')} перед прививкой: противопоказаний нет. "
                               f"Температура тела 36,{_ri(rng, 4, 8)} °C."),
                    ("Реакция", reaction),
                ],
                specialty=self.gp(day).specialty,
                organisation=self.org,
                details={"infection": infection, "vaccine": vaccine, "series": series,
                         "dose": dose},
                signed_at=self.later(when, 2, 30),
            )
        )  # fmt: skip

    def checkup(self, day: dt.date) -> None:
        """Диспансеризация / профилактический осмотр: labs first, then the therapist."""
        rng = self.rng
        labs_on = self.at(day, 8, 10)
        self.cbc(labs_on)
        self.biochemistry(labs_on, ("GLU", "CHOL", "CREA", "ALT", "AST"))
        if rng.random() < 0.5:
            self.urine(labs_on)
        visit_day = self.local_day(labs_on) + dt.timedelta(days=_ri(rng, 2, 7))
        when = self.at(visit_day)
        if self.age_on(day) >= 35:
            self.ecg(self.later(labs_on, 20, 90))
        chol = self.lab.value("CHOL", day)
        glu = self.lab.value("GLU", day)
        group = "IIIа" if self.profile.chronic else ("II" if chol > 5.2 or glu > 6.1 else "I")
        notes = []
        if chol > 5.2:
            notes.append(f"гиперхолестеринемия ({_dec(chol, 2)} ммоль/л)")
        if glu > 6.1:
            notes.append(f"гипергликемия натощак ({_dec(glu)} ммоль/л)")
        if self.profile.smoker:
            notes.append("курение")
        risk = "Факторы риска: " + (", ".join(notes) if notes else "не выявлены") + "."
        self.protocol(
            when,
            self.gp(day),
            title_extra="Диспансеризация",
            complaints="Жалоб не предъявляет." if rng.random() < 0.7 else
            "Периодическая усталость к концу рабочего дня.",
            anamnesis="Явил" + self.g("ся", "ась") + " для прохождения диспансеризации. "
            + self.allergy_line(),
            objective=self.objective(),
            conclusion=f"{risk} Группа здоровья {group}.",
            recommendations="Здоровое питание, физическая активность не менее 150 минут в "
            "неделю" + (", отказ от курения" if self.profile.smoker else "") + ". "
            "Следующая диспансеризация — по возрасту.",
            diagnoses=[NewDiagnosis(MAIN, "Z00.0"), *self.chronic_dx(on=day)],
        )  # fmt: skip

    def child_checkup(self, day: dt.date, author: Author | None = None) -> None:
        rng = self.rng
        age = self.age_on(day)
        when = self.at(day, 9, 17)
        if rng.random() < 0.7:
            labs_on = self.at(self.local_day(when) - dt.timedelta(days=_ri(rng, 1, 5)), 8, 10)
            self.cbc(labs_on)
            if rng.random() < 0.8:
                self.urine(labs_on)
        weight, height = _child_size(rng, age, self.profile.female)
        group = "II" if self.profile.chronic or self.profile.allergies else "I"
        self.protocol(
            when,
            author or self.gp(day),
            title_extra="Профилактический медицинский осмотр",
            complaints="Жалоб нет.",
            anamnesis="Профилактический осмотр по возрасту. Прививки по национальному календарю. "
            + self.allergy_line(),
            objective=f"Состояние удовлетворительное. Масса тела {_dec(weight)} кг, рост "
            f"{height} см. Физическое развитие среднее, гармоничное. Кожа чистая. Зев спокоен. "
            "Дыхание пуэрильное/везикулярное, хрипов нет. Тоны сердца ясные, ритмичные. Живот "
            "мягкий, безболезненный. Стул и мочеиспускание в норме.",
            conclusion=f"Здоров{self.g('', 'а')}. Группа здоровья {group}.",
            recommendations="Режим дня, рациональное питание. Прививки по календарю. "
            "Следующий профилактический осмотр через год.",
            diagnoses=[NewDiagnosis(MAIN, "Z00.1"), *self.chronic_dx(on=day)],
        )

    # -- chronic conditions ----------------------------------------------------------------
    def _chronic_course(self, code: str) -> None:
        rng = self.rng
        onset = self.profile.chronic[code]
        interval = _CHRONIC[code].interval / self.density
        day = max(onset, self.start)
        first = onset >= self.start
        if code == "M42.1":  # exacerbations rather than scheduled visits
            if first:
                self.plan(self.back_pain, onset, chronic_first=True, keep=True)
            rate = 365 / interval
            for anchor in self.years():
                for _ in range(_poisson(rng, rate)):
                    d = self.day_between(max(anchor, onset), anchor + dt.timedelta(days=364))
                    if onset + _SETTLED < d <= self.end:
                        self.plan(self.back_pain, d, chronic_first=False)
            return
        if not first:
            day += dt.timedelta(days=_ri(rng, 0, round(interval)))
        days = []
        while day <= self.end:
            days.append(day)
            day += dt.timedelta(days=round(interval * rng.uniform(0.75, 1.3)))
        for n, day in enumerate(days):
            # The first visit (the diagnosis) and the latest are in the record whatever its size.
            last = n == len(days) - 1
            first_visit = first and n == 0
            self.plan(
                self.chronic_visit, code, day, first=first_visit, n=n, keep=first_visit or last
            )

    def chronic_visit(self, code: str, day: dt.date, *, first: bool, n: int) -> None:
        rng, p = self.rng, self.profile
        labs_on = self.at(day - dt.timedelta(days=_ri(rng, 1, 6)), 8, 10)
        if labs_on.astimezone(self.tz).date() < self.start:
            labs_on = self.at(day, 8, 9)
        author = self.gp(day)
        if code == "I25.1" or (code in _HYPERTENSION and n % 4 == 3):
            author = self.authors.pick(rng, "Кардиология")
            if code in _HYPERTENSION:
                self.referral(
                    self.at(day - dt.timedelta(days=_ri(rng, 7, 25))),
                    "Кардиология",
                    code,
                    "Консультация, коррекция антигипертензивной терапии",
                )
        due = functools.partial(self.due, day)
        if code in _HYPERTENSION:
            if n % 2 == 0 and due("bio", 40):
                self.biochemistry(labs_on, ("GLU", "CHOL", "CREA", "ALT", "AST"))
            if n % 3 == 0 and due("ecg", 60):
                self.ecg(self.later(labs_on, 15, 120))
        elif code == "I25.1":
            if due("bio", 40):
                self.biochemistry(labs_on, ("CHOL", "CREA", "ALT", "AST", "GLU"))
            if due("ecg", 60):
                self.ecg(self.later(labs_on, 15, 120))
        elif code == "E11.9":
            if due("hba1c", 80):
                self.hba1c(labs_on)
            if n % 4 == 0 and due("diabetic panel", 170):
                self.biochemistry(labs_on, ("CHOL", "CREA", "ALT", "AST"))
                self.urine(labs_on)
                self.cbc(labs_on)
        elif code == "E03.9":
            if due("tsh", 50):
                self.tsh(labs_on)
        elif code == "K29.5":
            if rng.random() < 0.5 and due("cbc", 40):
                self.cbc(labs_on)
            if rng.random() < 0.4 and due("ultrasound", 170):
                self.ultrasound(self.later(labs_on, 30, 180))
        elif code == "L20.8" and rng.random() < 0.3 and due("cbc", 40):
            self.cbc(labs_on)
        when = self.at(day)
        text = self.chronic_text(code, self.local_day(when), first=first)
        dx = [
            NewDiagnosis(MAIN, code, NEW if first else KNOWN, text.get("note", "")),
            *self.chronic_dx(skip=code, on=day),
        ]
        self.protocol_text(when, author, text, keep=first, diagnoses=dx)
        if code in _PRESCRIBED and rng.random() < (0.6 if p.privileged else 0.25):
            self.prescription(self.later(when, 5, 20), author, code)
        if code == "E11.9" and n % 4 == 1:
            ophth = self.authors.pick(rng, "Офтальмология")
            self.referral(
                self.later(when, 3, 15),
                "Офтальмология",
                code,
                "Осмотр глазного дна (диабетическая ретинопатия?)",
            )
            exam = self.at(self.local_day(when) + dt.timedelta(days=_ri(rng, 5, 30)))
            self.protocol(
                exam, ophth,
                complaints="Жалоб на зрение нет.",
                anamnesis=f"Направлен{self.g('', 'а')} терапевтом: сахарный диабет 2 типа.",
                objective=f"Visus OD = {_dec(rng.choice((0.8, 0.9, 1.0)))}, OS = "
                f"{_dec(rng.choice((0.8, 0.9, 1.0)))}. ВГД OD/OS {_ri(rng, 16, 21)}/"
                f"{_ri(rng, 16, 21)} мм рт. ст. Глазное дно (с мидриазом): ДЗН бледно-"
                "розовые, границы чёткие; артерии сужены, единичные микроаневризмы не выявлены.",
                conclusion="Ангиопатия сетчатки обоих глаз. Данных за диабетическую ретинопатию "
                "нет.",
                recommendations="Осмотр глазного дна 1 раз в год. Компенсация гликемии.",
                diagnoses=[NewDiagnosis(MAIN, code, KNOWN, "осмотр глазного дна: ретинопатии "
                                        "нет")],
            )  # fmt: skip

    def chronic_text(self, code: str, day: dt.date, *, first: bool) -> dict[str, str]:
        rng, p = self.rng, self.profile
        since = p.chronic[code].year
        allergy = self.allergy_line()
        if code in _HYPERTENSION:
            sys_bp, dia = _ri(rng, 128, 162), _ri(rng, 78, 98)
            reached = sys_bp < 140 and dia < 90
            stage = "II стадии" if code == "I11.9" else "I стадии"
            if first:
                return {
                    "complaints": "Головные боли в затылочной области, мелькание «мушек» перед "
                    "глазами при повышении АД до 160/95 мм рт. ст.",
                    "anamnesis": "Повышение АД отмечает около года, не лечил" + self.g("ся", "ась")
                    + ". " + allergy,
                    "objective": self.objective(bp=(_ri(rng, 145, 165), _ri(rng, 90, 100))),
                    "conclusion": f"Гипертоническая болезнь {stage}, впервые выявленная. Риск "
                    "ССО высокий.",
                    "recommendations": f"Начать {p.bp_drug}. Дневник АД утром и вечером. "
                    "Ограничение соли до 5 г в сутки. ОАК, биохимия, ЭКГ, осмотр глазного дна. "
                    "Явка через 2 недели.",
                    "note": "впервые выявлена",
                }  # fmt: skip
            return {
                "complaints": rng.choice(
                    ("Жалоб активно не предъявляет. АД дома 125–138/80–85 мм рт. ст.",
                     "Периодические головные боли в затылочной области при повышении АД до "
                     f"{sys_bp + 15}/{dia + 5} мм рт. ст.",
                     "Головокружение при резком вставании, слабость к вечеру.")
                ),
                "anamnesis": f"Гипертоническая болезнь с {since} года. Принимает {p.bp_drug}. "
                "Целевое АД " + ("достигается." if reached else "достигается не всегда.")
                + " " + allergy,
                "objective": self.objective(bp=(sys_bp, dia)),
                "conclusion": f"Гипертоническая болезнь {stage}. Целевое АД "
                + ("достигнуто." if reached else "не достигнуто."),
                "recommendations": ("Продолжить " if reached else "Усилить терапию: ") + p.bp_drug
                + ". Контроль АД, дневник. Ограничение соли. Липидограмма, креатинин перед "
                "следующим визитом. Явка через 3 месяца.",
            }  # fmt: skip
        if code == "E11.9":
            glu, hba = self.lab.value("GLU", day), self.lab.value("HBA1C", day)
            if first:
                return {
                    "complaints": "Сухость во рту, жажда, учащённое мочеиспускание в течение "
                    "2–3 месяцев.",
                    "anamnesis": f"При обследовании глюкоза плазмы натощак {_dec(glu)} ммоль/л, "
                    f"HbA1c {_dec(hba)} %. " + allergy,
                    "objective": self.objective(bmi=True),
                    "conclusion": "Сахарный диабет 2 типа, впервые выявленный. Целевой HbA1c "
                    "< 7,0 %.",
                    "recommendations": "Метформин 500 мг 2 раза в день с титрацией до 1000 мг 2 "
                    "раза в день. Диета с ограничением простых углеводов. Школа диабета. "
                    "Самоконтроль гликемии. HbA1c через 3 месяца.",
                    "note": "впервые выявлен",
                }  # fmt: skip
            ok = hba < 7.0
            return {
                "complaints": "Жалоб нет." if ok else "Сухость во рту по утрам.",
                "anamnesis": f"Сахарный диабет 2 типа с {since} года. Принимает метформин "
                f"1000 мг 2 раза в день. Гликемия натощак по глюкометру {_dec(glu - 0.4)}–"
                f"{_dec(glu + 0.6)} ммоль/л. Гипогликемий не было. " + allergy,
                "objective": self.objective(bmi=True, feet=True),
                "conclusion": f"Сахарный диабет 2 типа. HbA1c {_dec(hba)} %: целевой уровень "
                + ("достигнут." if ok else "не достигнут."),
                "recommendations": ("Терапию продолжить. " if ok else "Добавить "
                "вилдаглиптин 50 мг 2 раза в день. ") + "Самоконтроль гликемии. HbA1c раз в 3 "
                "месяца, осмотр глазного дна раз в год, ОАМ.",
            }  # fmt: skip
        if code == "I25.1":
            aspirin = (
                "клопидогрел 75 мг"
                if p.allergic_to("Ацетилсалициловая кислота")
                else ("ацетилсалициловая кислота 75 мг")
            )
            return {
                "complaints": rng.choice(
                    ("Давящие боли за грудиной при подъёме на 2 этаж, проходят в покое за 3–5 "
                     "минут.", "Ангинозных болей на фоне терапии нет, одышка при быстрой ходьбе.")
                ),
                "anamnesis": f"ИБС с {since} года. Принимает бисопролол 5 мг, аторвастатин "
                f"20 мг, {aspirin}. " + allergy,
                "objective": self.objective(bp=(_ri(rng, 120, 145), _ri(rng, 70, 88))),
                "conclusion": "ИБС: стенокардия напряжения, ФК II. Атеросклероз коронарных "
                "артерий." + (" Впервые установлена." if first else ""),
                "recommendations": f"Бисопролол 5 мг, аторвастатин 20 мг, {aspirin}. "
                "Нитроглицерин 0,5 мг под язык при приступе. Целевой ЛПНП < 1,4 ммоль/л. ЭКГ, "
                "липидограмма через 3 месяца.",
                **({"note": "стенокардия напряжения впервые"} if first else {}),
            }  # fmt: skip
        if code == "E03.9":
            tsh = self.lab.value("TSH", day)
            dose = rng.choice((50, 75, 100))
            return {
                "complaints": "Слабость, зябкость, сонливость, отёчность лица по утрам."
                if first else "Самочувствие удовлетворительное.",
                "anamnesis": (f"ТТГ {_dec(tsh, 2)} мЕд/л. " if first else
                              f"Гипотиреоз с {since} года, принимает левотироксин натрия {dose} "
                              f"мкг утром натощак. ТТГ {_dec(tsh, 2)} мЕд/л. ") + allergy,
                "objective": self.objective(),
                "conclusion": "Гипотиреоз, впервые выявленный." if first else
                "Гипотиреоз, медикаментозный эутиреоз." if tsh < 4.0 else
                "Гипотиреоз, субкомпенсация.",
                "recommendations": f"Левотироксин натрия {dose} мкг утром за 30 минут до еды. "
                f"Контроль ТТГ через {3 if first or tsh >= 4.0 else 6} месяцев.",
            }  # fmt: skip
        if code == "K29.5":
            flare = first or rng.random() < 0.6
            return {
                "complaints": "Ноющие боли и тяжесть в эпигастрии после еды, изжога."
                if flare else "Жалоб нет.",
                "anamnesis": ("Боли около месяца, связывает с нарушением питания. " if first else
                              f"Хронический гастрит с {since} года, обострения весной и "
                              "осенью. ") + allergy,
                "objective": self.objective(
                    abdomen="Живот мягкий, умеренно болезненный в эпигастрии." if flare else ""
                ),
                "conclusion": "Хронический гастрит, " + ("обострение." if flare else "ремиссия."),
                "recommendations": ("Омепразол 20 мг 2 раза в день 4 недели. " if flare else "")
                + "Дробное питание, исключить острое и алкоголь. ФГДС, УЗИ органов брюшной "
                "полости.",
            }  # fmt: skip
        if code == "L20.8":
            flare = first or rng.random() < 0.5
            return {
                "complaints": "Сухость кожи, зуд, высыпания на сгибах локтей и под коленями."
                if flare else "Кожа сухая, высыпаний нет.",
                "anamnesis": ("Высыпания с грудного возраста, усиливаются после цитрусовых. "
                              if first else f"Атопический дерматит с {since} года. ") + allergy,
                "objective": "Состояние удовлетворительное. Кожа сухая, " + (
                    "на сгибательных поверхностях локтевых и подколенных областей эритема, "
                    "лихенификация, экскориации." if flare else "высыпаний нет.")
                + " Зев спокоен. Дыхание везикулярное. Живот мягкий.",
                "conclusion": "Атопический дерматит, " + ("обострение." if flare else
                                                          "ремиссия."),
                "recommendations": "Эмоленты 2 раза в день постоянно. "
                + ("Мометазон крем 0,1 % 1 раз в день на очаги 7 дней. " if flare else "")
                + "Гипоаллергенный быт, исключить провоцирующие продукты.",
            }  # fmt: skip
        raise KeyError(code)

    def prescription(self, when: dt.datetime, author: Author, code: str) -> None:
        rng, p = self.rng, self.profile
        drug, use, count = {
            "I10": (p.bp_drug.split(" утром")[0].capitalize(), "1 таблетка утром", "№ 30"),
            "I11.9": (p.bp_drug.split(" утром")[0].capitalize(), "1 таблетка утром", "№ 30"),
            "I25.1": ("Аторвастатин 20 мг", "1 таблетка вечером", "№ 30"),
            "E11.9": ("Метформин 1000 мг", "1 таблетка 2 раза в день", "№ 60"),
            "E03.9": ("Левотироксин натрия 75 мкг", "1 таблетка утром натощак", "№ 50"),
        }[code]
        series = f"45-{self.local_day(when):%y}"
        number = f"{_ri(rng, 0, 999999):06d}"
        # Free medicines on the «льготный» form with series and number, others on 107-1/у.
        form = "148-1/у-04 (л)" if p.privileged else "107-1/у"
        summary = (
            f"Форма № {form}, серия {series} № {number}, льготный"
            if p.privileged
            else f"Форма № {form}"
        )
        self.docs.append(
            _Doc(
                DocKind.PRESCRIPTION, when, f"Рецепт: {drug}", author,
                summary=summary,
                sections=[("Препарат", f"{drug}, таблетки, {count}"),
                          ("Способ применения", use),
                          ("Срок действия", "30 дней" if p.privileged else "60 дней")],
                specialty=author.specialty, organisation=self.org,
                details={"form": form, "series": series, "number": number} if p.privileged
                else {"form": form},
                signed_at=self.later(when, 0, 5),
            )
        )  # fmt: skip

    # -- acute illness ---------------------------------------------------------------------
    def _acute_episodes(self) -> None:
        rng = self.rng
        for anchor in self.years():
            span_end = min(anchor + dt.timedelta(days=364), self.end)
            age = self.age_on(anchor)
            if age < _ADULT:
                rates = {
                    "arvi": 2.5 if age < 7 else 1.5,
                    "bronchitis": 0.3,
                    "otitis": 0.3 if age < 7 else 0.1,
                    "conjunctivitis": 0.2,
                }
            else:
                rates = {
                    "arvi": 0.9,
                    "bronchitis": 0.2 if self.profile.smoker else 0.1,
                    "otitis": 0.05,
                    "conjunctivitis": 0.08,
                    "back": 0.0 if "M42.1" in self.profile.chronic else 0.15,
                }
            for kind, rate in rates.items():
                for _ in range(_poisson(rng, rate * self.density)):
                    day = self.day_between(anchor, span_end)
                    self.plan(getattr(self, kind), day)

    def sick_leave(self, opened: dt.datetime, closed: dt.date, author: Author, code: str) -> None:
        if not self.profile.working or self.age_on(closed) < _ADULT:
            return
        rng = self.rng
        number = f"9{_ri(rng, 10**10, 10**11 - 1)}"
        start = self.local_day(opened)
        back = closed + dt.timedelta(days=1)
        self.docs.append(
            _Doc(
                DocKind.SICK_LEAVE, self.later(opened, 3, 12),
                f"Листок нетрудоспособности № {number}", author,
                summary=f"Заболевание (01): с {start:%d.%m.%Y} по {closed:%d.%m.%Y}, "
                f"приступить к работе {back:%d.%m.%Y}",
                sections=[("Причина нетрудоспособности", "01 — заболевание"),
                          ("Освобождение от работы", f"с {start:%d.%m.%Y} по {closed:%d.%m.%Y}"),
                          ("Диагноз", code),
                          ("Приступить к работе", f"{back:%d.%m.%Y}")],
                specialty=author.specialty, organisation=self.org,
                details={"number": number, "from": f"{start:%d.%m.%Y}",
                         "to": f"{closed:%d.%m.%Y}"},
            )
        )  # fmt: skip

    def referral(self, when: dt.datetime, specialty: str, code: str, purpose: str) -> None:
        position = _FALLBACK_POSITION.get(specialty, specialty).lower()
        doctor = _TO_DOCTOR.get(specialty, position)
        gp = self.gp(self.local_day(when))
        self.docs.append(
            _Doc(
                DocKind.REFERRAL, when, f"Направление на консультацию: {position}", gp,
                summary=f"К {doctor}: {purpose.lower()}",
                sections=[("Цель", purpose), ("Диагноз", code),
                          ("Куда", f"{specialty}, {self.org}")],
                specialty=gp.specialty, organisation=self.org,
                details={"to": specialty, "code": code},
                signed_at=self.later(when, 0, 3),
            )
        )  # fmt: skip

    def referral_to(self, when: dt.datetime, title: str, summary: str, code: str) -> None:
        gp = self.gp(self.local_day(when))
        self.docs.append(
            _Doc(DocKind.REFERRAL, when, title, gp, summary=summary,
                 sections=[("Цель", summary), ("Диагноз", code)],
                 specialty=gp.specialty, organisation=self.org,
                 details={"code": code}, signed_at=self.later(when, 0, 3))
        )  # fmt: skip

    def arvi(self, day: dt.date, *, author: Author | None = None,
             encounter: Visit | None = None) -> None:  # fmt: skip
        rng = self.rng
        doctor = author or self.gp(day)
        when = self.encounter_time(encounter) or self.at(day)
        t = rng.choice((37.4, 37.8, 38.0, 38.2, 38.5, 38.9))
        ill = _ri(rng, 1, 3)
        code = rng.choices(("J06.9", "J02.9"), weights=(5, 1))[0]
        complaints = rng.choice(
            (f"Повышение температуры тела до {_dec(t)} °C, заложенность носа, боль в горле, "
             "слабость.",
             f"Насморк, першение в горле, сухой кашель, температура до {_dec(t)} °C.",
             f"Головная боль, ломота в теле, температура до {_dec(t)} °C, насморк.")
        )  # fmt: skip
        leave = self.profile.working and self.age_on(day) >= _ADULT and rng.random() < 0.55
        control = self.local_day(when) + dt.timedelta(days=_ri(rng, 4, 7))
        self.protocol(
            when, doctor, encounter=encounter,
            complaints=complaints,
            anamnesis=f"Заболел{self.g('', 'а')} остро {ill} дн. назад. Контакт с больными ОРВИ "
            + rng.choice(("в семье.", "на работе.", "отрицает.", "в детском саду."
                          if self.age_on(day) < 7 else "в школе.")) + " " + self.allergy_line(),
            objective=self.objective(temp=t - 0.4, throat=True),
            conclusion="Острый фарингит." if code == "J02.9" else
            "Острая респираторная вирусная инфекция, лёгкое течение.",
            recommendations="Обильное тёплое питьё. Парацетамол при температуре выше 38,5 °C. "
            "Промывание носа солевым раствором. "
            + (f"ЛН открыт. Явка {control:%d.%m.%Y}." if leave else "Повторный осмотр по "
               "показаниям.") + " При ухудшении — вызов врача на дом.",
            diagnoses=[NewDiagnosis(MAIN, code, ACUTE)],
        )  # fmt: skip
        if leave:
            self.sick_leave(when, control - dt.timedelta(days=1), doctor, code)
        if (leave or rng.random() < 0.35) and encounter is None:
            self.recovery(control, doctor, code, "ОРВИ")

    def recovery(self, day: dt.date, doctor: Author, code: str, what: str) -> None:
        when = self.at(day)
        self.protocol(
            when, doctor,
            complaints=self.rng.choice(("Жалоб нет.", "Остаточный кашель по утрам.",
                                        "Небольшая слабость.")),
            anamnesis=f"Повторный осмотр: {what}. Лечение по рекомендациям получал"
            + self.g("", "а") + ".",
            objective=self.objective(),
            conclusion=f"{what}: выздоровление.",
            recommendations="ЛН закрыт, приступить к работе со следующего дня."
            if self.profile.working and self.age_on(day) >= _ADULT else "Здоров"
            + self.g("", "а") + ", может посещать занятия.",
            diagnoses=[NewDiagnosis(MAIN, code, ACUTE, "выздоровление")],
        )  # fmt: skip

    def bronchitis(self, day: dt.date) -> None:
        rng, p = self.rng, self.profile
        code = "J40" if p.smoker and rng.random() < 0.5 else "J20.9"
        when = self.at(day)
        self.protocol(
            when, self.gp(day),
            complaints="Кашель с трудноотделяемой мокротой, температура до 37,8 °C, слабость.",
            anamnesis=f"Болеет {_ri(rng, 4, 9)} дней: начало с насморка, затем присоединился "
            "кашель." + (f" Курит около {max(1, p.age - 20)} лет." if p.smoker else "")
            + " " + self.allergy_line(),
            objective=self.objective(temp=37.3, lungs="Дыхание жёсткое, рассеянные сухие хрипы "
                                     "с обеих сторон."),
            conclusion="Бронхит, не уточнённый как острый или хронический." if code == "J40"
            else "Острый бронхит.",
            recommendations="Обильное питьё, амброксол 30 мг 3 раза в день 7 дней. ОАК, "
            "рентгенография органов грудной клетки. Повторный осмотр через 7 дней.",
            diagnoses=[NewDiagnosis(MAIN, code, ACUTE), *self.chronic_dx(on=day)],
        )  # fmt: skip
        labs_on = self.at(self.local_day(when) + dt.timedelta(days=1), 8, 10)
        self.cbc(labs_on, sick=True)
        if rng.random() < 0.6:
            self.xray_chest(self.later(labs_on, 60, 300))
        if code == "J40" and rng.random() < 0.4:
            self.spirometry(self.later(labs_on, 30, 200))
        control = self.local_day(when) + dt.timedelta(days=_ri(rng, 7, 10))
        self.sick_leave(when, control - dt.timedelta(days=1), self.gp(day), code)
        self.recovery(control, self.gp(day), code, "бронхит")

    def conjunctivitis(self, day: dt.date, *, encounter: Visit | None = None) -> None:
        rng = self.rng
        doctor = (
            encounter.author
            if encounter
            else (
                self.gp(day) if day < self.adult_from else self.authors.pick(rng, "Офтальмология")
            )
        )
        when = self.encounter_time(encounter) or self.at(day)
        eye = rng.choice(("OD", "OS", "OU"))
        self.protocol(
            when, doctor, encounter=encounter,
            complaints="Покраснение и слезотечение "
            + {"OD": "правого глаза", "OS": "левого глаза", "OU": "обоих глаз"}[eye]
            + ", ощущение песка, слизистое отделяемое по утрам.",
            anamnesis=f"Болеет {_ri(rng, 1, 4)} дня. " + self.allergy_line(),
            objective=f"Visus OD = 1,0, OS = 1,0. Гиперемия конъюнктивы век и глазного яблока "
            f"{eye}, отделяемое слизистое. Роговица прозрачная, передняя камера средней глубины.",
            conclusion=f"Острый конъюнктивит {eye}.",
            recommendations="Тобрамицин 0,3 % по 1 капле 4 раза в день 7 дней. Гигиена рук, "
            "отдельное полотенце. Повторный осмотр через неделю.",
            diagnoses=[NewDiagnosis(MAIN, "H10.9", ACUTE, f"острый, {eye}")],
        )  # fmt: skip

    def otitis(self, day: dt.date, *, encounter: Visit | None = None) -> None:
        rng = self.rng
        doctor = (
            encounter.author
            if encounter
            else (
                self.gp(day)
                if day < self.adult_from
                else self.authors.pick(rng, "Оториноларингология")
            )
        )
        when = self.encounter_time(encounter) or self.at(day)
        side = rng.choice(("слева", "справа"))
        ear, other = ("AS", "AD") if side == "слева" else ("AD", "AS")
        antibiotic = (
            "азитромицин 500 мг 1 раз в день 3 дня"
            if self.profile.allergic_to(*_PENICILLINS)
            else "амоксициллин 500 мг 3 раза в день 7 дней"
        )
        self.protocol(
            when, doctor, encounter=encounter,
            complaints=f"Боль в ухе {side}, заложенность, снижение слуха, температура до 37,9 °C.",
            anamnesis=f"Заболел{self.g('', 'а')} {_ri(rng, 1, 3)} дня назад после ОРВИ. "
            + self.allergy_line(),
            objective=f"{other}: барабанная перепонка серая, опознавательные знаки чёткие. "
            f"{ear}: барабанная перепонка гиперемирована, выбухает, опознавательные знаки "
            f"сглажены. Шёпотная речь {other} 6 м, {ear} 3 м.",
            conclusion=f"Острый средний отит {side}.",
            recommendations=f"{antibiotic.capitalize()}. Сосудосуживающие капли в нос 5 дней. "
            "Повторный осмотр через 5–7 дней.",
            diagnoses=[NewDiagnosis(MAIN, "H66.9", ACUTE, f"острый, {side}")],
        )  # fmt: skip
        if encounter is None:
            control = self.local_day(when) + dt.timedelta(days=_ri(rng, 5, 7))
            self.sick_leave(when, control - dt.timedelta(days=1), doctor, "H66.9")
            self.recovery(control, doctor, "H66.9", "острый средний отит")

    def back(self, day: dt.date) -> None:
        self.back_pain(day, chronic_first=False, acute=True)

    def back_pain(self, day: dt.date, *, chronic_first: bool, acute: bool = False,
                  encounter: Visit | None = None) -> None:  # fmt: skip
        rng = self.rng
        if not acute and not chronic_first and rng.random() < 0.5 and encounter is None:
            self.referral(
                self.at(day - dt.timedelta(days=_ri(rng, 2, 10))),
                "Неврология",
                "M42.1",
                "Обострение остеохондроза, подбор терапии",
            )
        doctor = (
            encounter.author
            if encounter
            else (self.gp(day) if acute else self.authors.pick(rng, "Неврология"))
        )
        when = self.encounter_time(encounter) or self.at(day)
        level = rng.choice(("поясничном", "шейном", "пояснично-крестцовом"))
        lumbar = level != "шейном"
        code = "M54.5" if acute else "M42.1"
        char = ACUTE if acute else NEW if chronic_first else KNOWN
        note = "" if acute else f"{level[:-2]}ый отдел, обострение"
        self.protocol(
            when, doctor, encounter=encounter, keep=chronic_first,
            complaints=("Боли в пояснице с иррадиацией в ягодицу, усиливаются при наклонах."
                        if lumbar else "Боли в шее с иррадиацией в надплечье, головная боль в "
                        "затылке."),
            anamnesis=("Боли после подъёма тяжести " + str(_ri(rng, 2, 6)) + " дн. назад. "
                       if acute or chronic_first else "Остеохондроз много лет, обострения 1–2 "
                       "раза в год. Настоящее — " + str(_ri(rng, 3, 10)) + " дн. ")
            + self.allergy_line(),
            objective=f"Ограничение движений в {level} отделе, напряжение паравертебральных мышц. "
            "Симптом Ласега отрицательный с обеих сторон. Сухожильные рефлексы D = S, "
            "чувствительность не нарушена, парезов нет.",
            conclusion=("Дорсалгия, мышечно-тонический синдром." if acute else
                        f"Остеохондроз позвоночника, {level} отдел, обострение. "
                        "Мышечно-тонический синдром."),
            recommendations=("Нимесулид 100 мг 2 раза в день 5 дней после еды. "
                             if not self.profile.allergic_to("Ибупрофен") else
                             "Парацетамол 500 мг до 3 раз в день. ")
            + "Толперизон 150 мг 3 раза в день 10 дней. ЛФК после стихания боли.",
            diagnoses=[NewDiagnosis(MAIN, code, char, note), *self.chronic_dx(skip=code, on=day)],
        )  # fmt: skip
        if encounter is not None:
            return
        after = self.at(self.local_day(when) + dt.timedelta(days=_ri(rng, 1, 5)), 9, 17)
        if rng.random() < (0.35 if acute else 0.25):
            self.xray_spine(after, lumbar)
        elif not acute and rng.random() < 0.3:
            self.referral_to(
                self.later(when, 5, 20),
                "Направление на МРТ позвоночника",
                f"МРТ {'пояснично-крестцового' if lumbar else 'шейного'} отдела позвоночника",
                code,
            )
            self.mri_spine(
                self.at(self.local_day(when) + dt.timedelta(days=_ri(rng, 5, 20)), 8, 20), lumbar
            )
        if rng.random() < 0.4:
            self.sick_leave(
                when, self.local_day(when) + dt.timedelta(days=_ri(rng, 5, 10)), doctor, code
            )

    # -- hospital ----------------------------------------------------------------------------
    def _hospital(self) -> None:
        rng, p = self.rng, self.profile
        years = max(0.5, (self.end - self.start).days / 365)
        # Busier records are hospitalised more often, but not in proportion.
        chance = (0.04 + 0.07 * len(p.chronic)) * years / 4 * math.sqrt(self.density)
        once: set[str] = set()  # a gallbladder or an appendix is removed once
        for _ in range(_poisson(rng, chance)):
            admitted = self.day_between(self.start, self.end - dt.timedelta(days=20))
            age, known = self.age_on(admitted), self.known_on(admitted)
            options = ["pneumonia"]
            if "I25.1" in known:
                options += ["angina", "angina"]
            if any(c in known for c in _HYPERTENSION):
                options.append("crisis")
            if age >= 35:
                options.append("cholecystitis")
            if 7 <= age <= 45:
                options.append("appendicitis")
            kind = rng.choice([o for o in options if o not in once])
            if kind in ("cholecystitis", "appendicitis"):
                once.add(kind)
            self.plan(self.discharge, admitted, kind)

    def discharge(self, admitted: dt.date, kind: str) -> None:
        rng, p = self.rng, self.profile
        child = self.age_on(admitted) < _ADULT
        penicillin = p.allergic_to(*_PENICILLINS, "Цефтриаксон")
        days = _ri(rng, 6, 14)
        out = admitted + dt.timedelta(days=days)
        data: dict[str, tuple[str, str, str, str, str, str, str]] = {
            # kind: department, specialty, code, note, complaints, exam, treatment
            "pneumonia": (
                "Педиатрическое отделение" if child else "Пульмонологическое отделение",
                "Педиатрия" if child else "Пульмонология",
                "J18.9",
                "внебольничная правосторонняя нижнедолевая, нетяжёлое течение",
                "Кашель с мокротой, температура до 39 °C, одышка при нагрузке.",
                "КТ органов грудной клетки: инфильтрация S9–S10 правого лёгкого. ОАК: лейкоциты "
                "14,2 ×10⁹/л, СОЭ 38 мм/ч. SpO2 94 %.",
                "Левофлоксацин 500 мг в/в 7 дней"
                if penicillin
                else "Цефтриаксон 2 г в/в 7 дней, амброксол",
            ),
            "angina": (
                "Кардиологическое отделение",
                "Кардиология",
                "I20.0",
                "",
                "Давящие боли за грудиной в покое до 20 минут, купировались нитроглицерином.",
                "ЭКГ: депрессия ST в V4–V6. Тропонин I отрицательный двукратно. Коронарография: "
                "стеноз передней нисходящей артерии 80 %, выполнено стентирование.",
                "Двойная антитромбоцитарная терапия, аторвастатин 80 мг, бисопролол, эналаприл",
            ),
            "crisis": (
                "Кардиологическое отделение",
                "Кардиология",
                "I11.9" if "I11.9" in p.chronic else "I10",
                "гипертонический криз, неосложнённый",
                "Резкая головная боль, тошнота, АД 210/115 мм рт. ст.",
                "ЭКГ: гипертрофия левого желудочка, ишемии нет. КТ головного мозга: без "
                "очаговых изменений.",
                "Урапидил в/в, коррекция пероральной антигипертензивной терапии",
            ),
            "cholecystitis": (
                "Хирургическое отделение",
                "Хирургия",
                "K80.1",
                "острый калькулёзный холецистит",
                "Боли в правом подреберье после жирной пищи, тошнота, рвота.",
                "УЗИ: желчный пузырь увеличен, стенка 5 мм, множественные конкременты до 12 мм.",
                "Лапароскопическая холецистэктомия на 2-е сутки. Послеоперационный период "
                "без осложнений",
            ),
            "appendicitis": (
                "Хирургическое отделение",
                "Хирургия",
                "K35.8",
                "острый флегмонозный аппендицит",
                "Боли в правой подвздошной области, тошнота, температура до 37,8 °C.",
                "Положительные симптомы Щёткина–Блюмберга, Ровзинга. ОАК: лейкоциты 13,1 ×10⁹/л.",
                "Лапароскопическая аппендэктомия в день поступления",
            ),
        }
        dept, specialty, code, note, complaints, exam, treatment = data[kind]
        hospital = _CHILD_HOSPITAL if child else rng.choice(_HOSPITALS)
        doctor = rng.choice(_HOSPITAL_DOCTORS)
        character = KNOWN if code in p.chronic else ACUTE
        if kind == "cholecystitis":
            self.referral_to(
                self.at(admitted - dt.timedelta(days=_ri(rng, 1, 3))),
                "Направление на госпитализацию",
                "Госпитализация в хирургическое отделение: желчнокаменная болезнь, холецистит",
                code,
            )
        when = self.at(out, 10, 15, weekday=False)
        self.docs.append(
            _Doc(
                DocKind.DISCHARGE, when, f"Выписной эпикриз: {dept.lower()}",
                Author(None, doctor, specialty, ""),
                summary=f"{hospital}, {admitted:%d.%m.%Y}–{out:%d.%m.%Y}",
                sections=[
                    ("Период лечения", f"с {admitted:%d.%m.%Y} по {out:%d.%m.%Y} "
                                       f"({days} койко-дней)"),
                    ("Жалобы при поступлении", complaints),
                    ("Обследование", exam),
                    ("Лечение", treatment + "."),
                    ("Состояние при выписке", f"Удовлетворительное. Выписан{self.g('', 'а')} на "
                                              "амбулаторное лечение."),
                    ("Рекомендации", "Наблюдение участкового врача в течение 3 дней после "
                                     "выписки. " + ("Продолжить базисную терапию."
                                                    if p.chronic else "")),
                ],
                specialty=specialty, organisation=hospital,
                diagnoses=[NewDiagnosis(MAIN, code, character, note),
                           *self.chronic_dx(skip=code, on=admitted)],
                details={"admitted": f"{admitted:%d.%m.%Y}", "discharged": f"{out:%d.%m.%Y}",
                         "department": dept},
                signed_at=self.later(when, 0, 60),
            )
        )  # fmt: skip
        visit = self.at(out + dt.timedelta(days=_ri(rng, 2, 6)))
        self.protocol(
            visit, self.gp(out),
            complaints="Слабость." if rng.random() < 0.5 else "Жалоб нет.",
            anamnesis=f"Выписан{self.g('', 'а')} из стационара ({hospital}) {out:%d.%m.%Y}. "
            + self.allergy_line(),
            objective=self.objective(),
            conclusion="Состояние после стационарного лечения, удовлетворительное.",
            recommendations="Выполнять рекомендации стационара. Контроль ОАК через 2 недели.",
            diagnoses=[NewDiagnosis(MAIN, code, character, "после выписки из стационара"),
                       *self.chronic_dx(skip=code, on=out)],
        )  # fmt: skip

    # -- the demo fortnight ------------------------------------------------------------------
    def encounter_time(self, visit: Visit | None) -> dt.datetime | None:
        return visit.started_at if visit is not None else None

    def _fortnight(self) -> None:
        """The schedule's visits: a referral before a referred one, a protocol for a held one."""
        rng = self.rng
        for v in sorted(self.visits, key=lambda v: v.starts_at):
            spec = v.author.specialty
            slot_day = v.starts_at.astimezone(self.tz).date()
            if v.visit_type == VisitType.REFERRAL and spec not in _DISTRICT:
                issued = min(slot_day - dt.timedelta(days=_ri(rng, 3, 20)), self.end)
                when = self.at(issued)
                code, purpose = self.referral_reason(spec, issued)
                if spec == "Рентгенология":
                    self.plan(
                        self.referral_to,
                        when,
                        "Направление на рентгенологическое исследование",
                        purpose,
                        code,
                        keep=True,
                    )
                else:
                    self.plan(self.referral, when, spec, code, purpose, keep=True)
            if v.encounter_id is None or v.started_at is None:
                continue
            self.plan(self.encounter_document, v, slot_day, keep=True)

    def referral_reason(self, specialty: str, day: dt.date) -> tuple[str, str]:
        """The diagnosis and purpose a district doctor writes on a referral to ``specialty``."""
        chronic = self.profile.chronic
        if specialty == "Кардиология":
            code = next((c for c in ("I25.1", "I11.9", "I10") if c in chronic), "I10")
            return code, "Консультация, коррекция терапии"
        if specialty == "Неврология":
            if "M42.1" in chronic:
                return "M42.1", "Обострение остеохондроза, подбор терапии"
            return "M54.5", "Боли в спине, консультация"
        if specialty == "Офтальмология":
            if "E11.9" in chronic:
                return "E11.9", "Осмотр глазного дна"
            return "H52.1", "Снижение зрения, подбор коррекции"
        if specialty == "Оториноларингология":
            return "J31.0", "Заложенность носа, консультация"
        if specialty == "Хирургия":
            if self.age_on(day) >= 45:
                return "M17.1", "Боли в коленных суставах, консультация"
            return "S93.4", "Травма голеностопного сустава"
        return "Z11.1", "Флюорография / рентгенография органов грудной клетки"

    def encounter_document(self, v: Visit, day: dt.date) -> None:
        rng, p = self.rng, self.profile
        spec = v.author.specialty
        done = len(self.docs)
        if spec == "Рентгенология":
            if self.age_on(day) >= 15:
                self.fluorography(day, encounter=v)
            else:
                self.xray_chest(v.started_at or self.at(day), encounter=v)
        elif spec == "Неврология":
            self.back_pain(day, chronic_first=False, acute="M42.1" not in p.chronic, encounter=v)
        elif spec == "Офтальмология":
            self.conjunctivitis(day, encounter=v)
        elif spec == "Оториноларингология":
            if rng.random() < 0.5:
                self.otitis(day, encounter=v)
            else:
                self.arvi(day, author=v.author, encounter=v)
        elif spec == "Хирургия":
            self.surgeon(day, v)
        elif (followed := [c for c in p.chronic if c != "M42.1"]) and (
            spec == "Кардиология" or (spec in _DISTRICT and rng.random() < 0.6)
        ):
            codes = [c for c in followed if c in _HYPERTENSION or c == "I25.1"]
            if spec != "Кардиология" or not codes:
                codes = followed
            code = rng.choice(codes)
            text = self.chronic_text(code, day, first=False)
            assert v.started_at is not None
            self.protocol_text(
                v.started_at, v.author, text, encounter=v,
                diagnoses=[NewDiagnosis(MAIN, code, KNOWN, text.get("note", "")),
                           *self.chronic_dx(skip=code, on=day)],
            )  # fmt: skip
        elif p.child and rng.random() < 0.3:
            self.child_checkup(day, v.author)
        else:
            self.arvi(day, author=v.author, encounter=v)
        for d in self.docs[done:]:
            d.keep = d.visit = True
            if d.encounter_id is None and d.kind == DocKind.PROTOCOL:
                d.encounter_id = v.encounter_id
                if v.started_at is not None and v.finished_at is not None:
                    d.at, d.signed_at = v.started_at, v.finished_at

    def surgeon(self, day: dt.date, v: Visit) -> None:
        rng = self.rng
        assert v.started_at is not None
        if self.age_on(day) >= 45 and rng.random() < 0.6:
            code, text = "M17.1", {
                "complaints": "Боли в коленных суставах при ходьбе, «стартовые» боли по утрам.",
                "anamnesis": "Боли около 3 лет, усиливаются после нагрузки. " + self.allergy_line(),
                "objective": "Коленные суставы не изменены в объёме, крепитация при движении, "
                "сгибание ограничено до 110°. Периферические отёки отсутствуют.",
                "conclusion": "Первичный гонартроз II стадии, двусторонний.",
                "recommendations": "Снижение массы тела, ЛФК, ходьба с опорой. Рентгенография "
                "коленных суставов.",
            }  # fmt: skip
            character = KNOWN
        else:
            code, text = "S93.4", {
                "complaints": "Боль и отёк правого голеностопного сустава после подворачивания "
                "стопы.",
                "anamnesis": f"Травма бытовая {_ri(rng, 1, 3)} дня назад. " + self.allergy_line(),
                "objective": "Отёк и болезненность в области наружной лодыжки справа, "
                "движения ограничены из-за боли, осевая нагрузка безболезненна.",
                "conclusion": "Растяжение связок правого голеностопного сустава.",
                "recommendations": "Эластичное бинтование, холод, покой 5 дней. Повторный "
                "осмотр через неделю.",
            }  # fmt: skip
            character = ACUTE
        self.protocol_text(
            v.started_at,
            v.author,
            text,
            encounter=v,
            diagnoses=[NewDiagnosis(MAIN, code, character)],
        )

    # -- few documents -----------------------------------------------------------------------
    def _sparse(self) -> None:
        rng = self.rng
        makers = ["flu", "arvi", "checkup"]
        if self.profile.age >= 15:
            makers.append("fluoro")
        for _ in range(_ri(rng, 1, 2)):
            day = self.day_between(self.start, self.end)
            kind = rng.choice(makers)
            if kind == "flu":
                self.vaccination(day, "flu")
            elif kind == "arvi":
                self.arvi(day)
            elif kind == "fluoro":
                self.fluorography(day)
            elif day < self.adult_from:
                self.child_checkup(day)
            else:
                self.cbc(self.at(day, 8, 10))

    # -- protocol ----------------------------------------------------------------------------
    def protocol(
        self,
        when: dt.datetime,
        author: Author,
        *,
        complaints: str,
        anamnesis: str,
        objective: str,
        conclusion: str,
        recommendations: str,
        diagnoses: list[NewDiagnosis],
        title_extra: str = "",
        encounter: Visit | None = None,
        keep: bool = False,
    ) -> None:
        sections = [
            ("Жалобы", complaints),
            ("Анамнез", anamnesis),
            ("Объективный статус", objective),
            ("Заключение", conclusion),
            ("Рекомендации", recommendations),
        ]
        main = diagnoses[0]
        title = (
            f"Протокол осмотра: {author.position.lower()}"
            if author.position
            else "Протокол осмотра"
        )
        if title_extra:
            title = f"{title_extra}: {author.position.lower() or 'осмотр'}"
        signed = (
            encounter.finished_at
            if encounter is not None and encounter.finished_at is not None
            else self.later(when, 10, 25)
        )
        self.docs.append(
            _Doc(
                DocKind.PROTOCOL, when, title, author,
                summary=f"{main.code} {_name(main.code)}",
                sections=[(t, v) for t, v in sections if v],
                specialty=author.specialty,
                organisation=self.org,
                diagnoses=diagnoses,
                encounter_id=encounter.encounter_id if encounter is not None else None,
                signed_at=signed,
                keep=keep,
            )
        )  # fmt: skip

    def protocol_text(
        self,
        when: dt.datetime,
        author: Author,
        text: dict[str, str],
        *,
        diagnoses: list[NewDiagnosis],
        encounter: Visit | None = None,
        keep: bool = False,
    ) -> None:
        """:meth:`protocol` with the sections from a dict (``note`` is the diagnosis')."""
        self.protocol(
            when, author, complaints=text["complaints"], anamnesis=text["anamnesis"],
            objective=text["objective"], conclusion=text["conclusion"],
            recommendations=text["recommendations"], diagnoses=diagnoses, encounter=encounter,
            keep=keep,
        )  # fmt: skip

    def objective(
        self,
        *,
        temp: float = 36.6,
        bp: tuple[int, int] | None = None,
        throat: bool = False,
        lungs: str = "",
        abdomen: str = "",
        bmi: bool = False,
        feet: bool = False,
    ) -> str:
        rng = self.rng
        hr = _ri(rng, 64, 88) + (10 if temp > 37.2 else 0)
        lines = ["Состояние удовлетворительное. Кожа обычной окраски, чистая, отёков нет."]
        if throat:
            lines.append("Зев гиперемирован, налётов нет. Носовое дыхание затруднено.")
        lines.append(
            (lungs or "Дыхание везикулярное, хрипов нет.")
            + f" ЧДД {_ri(rng, 15, 19)}, SpO2 {_ri(rng, 96, 99)} %."
        )
        if self.profile.child:
            lines.append(f"Тоны сердца ясные, ритмичные, ЧСС {hr + 15}.")
        else:
            s, d = bp or (_ri(rng, 112, 134), _ri(rng, 70, 85))
            lines.append(f"Тоны сердца ритмичные, ЧСС {hr}, АД {s}/{d} мм рт. ст.")
        lines.append(abdomen or "Живот мягкий, безболезненный.")
        if bmi:
            lines.append(f"ИМТ {_dec(rng.uniform(27, 34))} кг/м².")
        if feet:
            lines.append("Стопы: пульсация сохранена, чувствительность не нарушена.")
        lines.append(f"Температура тела {_dec(temp)} °C.")
        return "\n".join(lines)  # fmt: skip

    # -- diagnostics -----------------------------------------------------------------------
    def study_uid(self, when: dt.datetime) -> str:
        tail = self.rng.getrandbits(40) | (1 << 39)
        return f"{STUDY_UID_ROOT}{self.pt.id}.{when:%Y%m%d%H%M%S}.{tail}"

    def imaging(
        self,
        when: dt.datetime,
        title: str,
        modality: str,
        dose: str,
        description: str,
        conclusion: str,
        *,
        author: Author | None = None,
        organisation: str = "",
        encounter: Visit | None = None,
    ) -> None:
        doctor = (
            author
            or (encounter.author if encounter else None)
            or self.authors.pick(self.rng, "Рентгенология")
        )
        details = {"modality": modality}
        if dose:
            details["dose"] = dose
        self.docs.append(
            _Doc(
                DocKind.IMAGING, when, title, doctor, summary=conclusion,
                sections=[("Описание", description), ("Заключение", conclusion)],
                specialty="Рентгенология", organisation=organisation or self.org,
                study_uid=self.study_uid(when), details=details,
                encounter_id=encounter.encounter_id if encounter else None,
                signed_at=(encounter.finished_at if encounter and encounter.finished_at
                           else self.later(when, 30, 240)),
            )
        )  # fmt: skip

    def fluorography(self, day: dt.date, *, encounter: Visit | None = None) -> None:
        when = self.encounter_time(encounter) or self.at(day, 8, 19)
        old = self.age_on(day) >= 60
        fibrosis = old and self.rng.random() < 0.5
        self.imaging(
            when, "Флюорография органов грудной клетки", "DX", "0,03 мЗв",
            "Лёгочные поля без очаговых и инфильтративных теней. "
            + ("Усиление и деформация лёгочного рисунка в нижних отделах. " if fibrosis else "")
            + "Корни структурны. Синусы свободны. Сердце"
            + (" расширено влево, аорта уплотнена." if old else " и аорта без особенностей."),
            "Пневмофиброз в нижних отделах. Атеросклероз аорты." if fibrosis
            else "Без патологических изменений.",
            encounter=encounter,
        )  # fmt: skip

    def xray_chest(self, when: dt.datetime, *, encounter: Visit | None = None) -> None:
        self.imaging(
            when,
            "Рентгенография органов грудной клетки в двух проекциях",
            "DX",
            "0,1 мЗв",
            "Инфильтративных теней не выявлено. Лёгочный рисунок усилен в прикорневых зонах. "
            "Корни расширены, малоструктурны. Синусы свободны. Сердце в пределах нормы.",
            "Рентгенологические признаки бронхита. Данных за пневмонию нет.",
            encounter=encounter,
        )

    def xray_spine(self, when: dt.datetime, lumbar: bool) -> None:
        part = "пояснично-крестцового" if lumbar else "шейного"
        self.imaging(
            when, f"Рентгенография {part} отдела позвоночника", "DX",
            "0,7 мЗв" if lumbar else "0,1 мЗв",
            "Высота межпозвонковых дисков снижена на уровне "
            + ("L4–L5, L5–S1" if lumbar else "C5–C6") + ", субхондральный склероз замыкательных "
            "пластинок, краевые остеофиты. Физиологический лордоз сглажен.",
            "Рентгенологические признаки остеохондроза " + part + " отдела позвоночника.",
        )  # fmt: skip

    def mri_spine(self, when: dt.datetime, lumbar: bool) -> None:
        part = "пояснично-крестцового" if lumbar else "шейного"
        level = "L4–L5" if lumbar else "C5–C6"
        mm = _ri(self.rng, 2, 5)
        self.imaging(
            when, f"МРТ {part} отдела позвоночника", "MR", "",
            f"Дегенеративные изменения межпозвонковых дисков. На уровне {level} дорзальная "
            f"протрузия диска до {mm} мм, без компрессии корешков. Позвоночный канал не сужен.",
            f"МР-картина остеохондроза; протрузия диска {level} ({mm} мм).",
            author=_MRI, organisation=_MRI_ORG,
        )  # fmt: skip

    def instrumental(
        self, when: dt.datetime, title: str, author: Author, description: str, conclusion: str
    ) -> None:
        self.docs.append(
            _Doc(
                DocKind.INSTRUMENTAL, when, title, author, summary=conclusion,
                sections=[("Описание", description), ("Заключение", conclusion)],
                specialty=author.specialty, organisation=self.org,
                signed_at=self.later(when, 10, 120),
            )
        )  # fmt: skip

    def ecg(self, when: dt.datetime) -> None:
        rng, p = self.rng, self.profile
        hr = _ri(rng, 58, 86)
        lvh = any(c in p.chronic for c in _HYPERTENSION) and rng.random() < 0.6
        ihd = "I25.1" in p.chronic
        axis = "отклонена влево" if lvh else "не отклонена"
        findings = ["Синусовый ритм" + (", брадикардия" if hr < 60 else "") + "."]
        if lvh:
            findings.append("Признаки гипертрофии миокарда левого желудочка.")
        if ihd:
            findings.append("Неспецифические изменения ST–T в отведениях V4–V6.")
        if len(findings) == 1:
            findings.append("Нормальное положение ЭОС.")
        self.instrumental(
            when, "Электрокардиография (ЭКГ)", _FD,
            f"Ритм синусовый, правильный, ЧСС {hr} в мин. ЭОС {axis}. PQ 0,{_ri(rng, 14, 19)} "
            f"с, QRS 0,0{_ri(rng, 8, 9)} с, QT 0,{_ri(rng, 36, 41)} с.",
            " ".join(findings),
        )  # fmt: skip

    def ultrasound(self, when: dt.datetime) -> None:
        rng = self.rng
        fatty = rng.random() < 0.4
        self.instrumental(
            when, "УЗИ органов брюшной полости", _US,
            f"Печень: правая доля {_ri(rng, 120, 155)} мм, контуры ровные, эхогенность "
            + ("повышена" if fatty else "не изменена") + ". Желчный пузырь обычной формы, "
            "стенка 2 мм, конкрементов нет. Поджелудочная железа не увеличена. Селезёнка "
            f"{_ri(rng, 90, 115)}×{_ri(rng, 38, 48)} мм.",
            "Эхопризнаки диффузных изменений печени по типу жирового гепатоза." if fatty
            else "Эхопризнаков патологии органов брюшной полости не выявлено.",
        )  # fmt: skip

    def spirometry(self, when: dt.datetime) -> None:
        rng = self.rng
        fev = _ri(rng, 68, 95)
        obstructive = fev < 80
        self.instrumental(
            when, "Исследование функции внешнего дыхания (спирометрия)", _FD,
            f"ЖЕЛ {_ri(rng, 85, 105)} % должной, ОФВ1 {fev} % должной, ОФВ1/ФЖЕЛ "
            f"{_ri(rng, 62, 69) if obstructive else _ri(rng, 72, 82)} %. Проба с "
            "сальбутамолом 400 мкг отрицательная.",
            "Умеренные обструктивные нарушения вентиляции." if obstructive
            else "Вентиляционная функция лёгких не нарушена.",
        )  # fmt: skip

    # -- labs ----------------------------------------------------------------------------------
    def lab_doc(self, when: dt.datetime, title: str, labs: list[NewLab], material: str) -> None:
        marks: list[str] = []
        for x in labs:
            flag = _flag(x)
            if flag and len(marks) < 3:
                arrow = {"H": "↑", "L": "↓"}.get(flag, "!")
                marks.append(f"{x.test_name} {x.value_text or number_ru(x.value or 0)} {arrow}")
        summary = "; ".join(marks) if marks else "Показатели в пределах референсных значений"
        self.docs.append(
            _Doc(
                DocKind.LAB, when, title, _LAB, summary=summary,
                sections=[("Материал", material)], specialty=_LAB.specialty,
                organisation=self.org, labs=labs, signed_at=self.later(when, 120, 600),
            )
        )  # fmt: skip

    def numeric(self, code: str, day: dt.date, *, sick: bool = False) -> NewLab:
        t = _TESTS[code]
        value = self.lab.value(code, day, sick=sick)
        child = day < self.adult_from
        low, high = _ref(code, self.profile.female, child, day, self.today)
        return NewLab(code, t.name, round(value, t.decimals), t.unit, low, high)

    def cbc(self, when: dt.datetime, *, sick: bool = False) -> None:
        day = self.local_day(when)
        self.lab_doc(
            when,
            _CBC_TITLE,
            [self.numeric(c, day, sick=sick) for c in _CBC],
            "Кровь венозная (ЭДТА)",
        )

    def biochemistry(self, when: dt.datetime, codes: Sequence[str]) -> None:
        day = self.local_day(when)
        tests = list(codes)
        if "E03.9" in self.profile.chronic and "TSH" not in tests and self.rng.random() < 0.5:
            tests.append("TSH")
        self.lab_doc(
            when, _BIO_TITLE, [self.numeric(c, day) for c in tests], "Сыворотка крови, натощак"
        )

    def hba1c(self, when: dt.datetime) -> None:
        day = self.local_day(when)
        self.lab_doc(
            when,
            "Гликированный гемоглобин, глюкоза",
            [self.numeric("HBA1C", day), self.numeric("GLU", day)],
            "Кровь венозная, натощак",
        )

    def tsh(self, when: dt.datetime) -> None:
        self.lab_doc(
            when,
            "Тиреотропный гормон (ТТГ)",
            [self.numeric("TSH", self.local_day(when))],
            "Сыворотка крови",
        )

    def urine(self, when: dt.datetime) -> None:
        rng = self.rng
        day = self.local_day(when)
        diabetic = "E11.9" in self.profile.chronic and self.lab.value("GLU", day) > 9.0
        protein = "0,033 г/л" if rng.random() < 0.06 else "не обнаружено"
        labs = [
            self.numeric("U-SG", day),
            self.numeric("U-PH", day),
            NewLab("U-PRO", "Белок в моче", None, "", None, None, protein),
            NewLab("U-GLU", "Глюкоза в моче", None, "", None, None,
                   "обнаружено" if diabetic else "не обнаружено"),
            self.numeric("U-LEU", day),
        ]  # fmt: skip
        self.lab_doc(when, _URINE_TITLE, labs, "Моча, утренняя порция")


def _child_size(rng: random.Random, age: int, female: bool) -> tuple[float, int]:
    if age < 1:
        return rng.uniform(6, 10), _ri(rng, 62, 76)
    weight = (2 * age + 8) * rng.uniform(0.88, 1.15) * (0.97 if female else 1.0)
    if age >= 10:
        weight = (3 * age + 4) * rng.uniform(0.85, 1.15)
    height = round((6 * age + 77) * rng.uniform(0.95, 1.05))
    return weight, min(height, 190)


class _LabModel:
    """Per-patient baselines and trends, so the values of one test over years tell a story."""

    def __init__(
        self,
        rng: random.Random,
        p: _Profile,
        birth: dt.date,
        start: dt.date,
        today: dt.date,
    ) -> None:
        self.rng = rng
        self.p = p
        self.birth = birth
        self.start = start
        f, child = p.female, p.child
        g = rng.gauss
        self.base = {
            "HGB": g(125, 6) if child else g(131, 7) if f else g(146, 8),
            "RBC": g(4.4, 0.25) if f or child else g(4.8, 0.3),
            "WBC": g(6.4, 1.0),
            "PLT": g(260 if child else 245, 40),
            "ESR": max(3.0, g(6 if child else 10 if f else 6, 2.5) + max(0, p.age - 60) / 5),
            "GLU": g(4.8 if child else 5.1, 0.35),
            "CHOL": g(4.2 if child else 4.6 + 0.025 * max(0, p.age - 30), 0.45),
            "CREA": g(45, 6) if child else g(68, 7) if f else g(88, 9),
            "ALT": g(18 if f else 24, 5),
            "AST": g(19 if f else 22, 4),
            "TSH": g(1.9, 0.6),
            "HBA1C": g(5.3, 0.25),
            "U-SG": g(1.018, 0.003),
            "U-PH": g(6.0, 0.4),
            "U-LEU": rng.uniform(1, 3),
        }
        self.chol_drift = rng.uniform(0.12, 0.3)  # mmol/l a year, for the hypertensive
        self.dm_peak = (rng.uniform(8.8, 11.5), rng.uniform(8.0, 9.6))  # glucose, HbA1c
        self.dm_goal = (rng.uniform(5.9, 7.2), rng.uniform(6.3, 7.3))
        self.tsh_peak = rng.uniform(8, 14)

    def value(self, code: str, day: dt.date, *, sick: bool = False) -> float:
        v = self.trend(code, day)
        if sick and code == "WBC":
            v *= self.rng.uniform(1.3, 1.9)
        if sick and code == "ESR":
            v = v * self.rng.uniform(1.8, 3.0) + 5
        v *= 1 + self.rng.gauss(0, _TESTS[code].noise)
        if code in ("U-LEU", "ESR", "ALT", "AST"):
            v = max(0.0, v)
        return max(v, 0.0)

    def trend(self, code: str, day: dt.date) -> float:
        chronic = self.p.chronic
        base = self.base[code]
        dm = chronic.get("E11.9")
        if dm is not None and code in ("GLU", "HBA1C") and day >= dm - dt.timedelta(days=14):
            i = 0 if code == "GLU" else 1
            since = max(dm, self.start)
            peak = (
                self.dm_peak[i]
                if dm >= self.start
                else (self.dm_goal[i] + 0.45 * (self.dm_peak[i] - self.dm_goal[i]))
            )
            t = max(0, (day - since).days)
            return self.dm_goal[i] + (peak - self.dm_goal[i]) * math.exp(-t / 240)
        if code == "CHOL":
            htn = next((chronic[c] for c in _HYPERTENSION if c in chronic), None)
            if htn is not None:
                base += self.chol_drift * max(0, (day - max(htn, self.start)).days) / 365
            ihd = chronic.get("I25.1")
            if ihd is not None and day >= ihd:  # a statin from the diagnosis on
                base = max(3.6, base - 1.4 * (1 - math.exp(-(day - ihd).days / 120)))
        if code == "CREA" and self.p.age >= 60:
            base += 1.5 * max(0, (day - self.start).days) / 365
        hypo = chronic.get("E03.9")
        if code == "TSH" and hypo is not None and day >= hypo - dt.timedelta(days=14):
            t = max(0, (day - hypo).days)
            return 2.2 + (self.tsh_peak - 2.2) * math.exp(-t / 70)
        return base


def _flag(x: NewLab) -> LabFlag:
    """The flag :func:`services.emk.add_document` gives this value."""
    return lab_flag(x)


@functools.cache
def _name(code: str) -> str:
    return catalog().name(code)


# --- generating ---------------------------------------------------------------------------------
def patient_history(
    rng: random.Random,
    patient: HistoryPatient,
    *,
    today: dt.date,
    tz: dt.tzinfo,
    authors: Authors,
    organisation: str,
    years: float,
    density: float = 1.0,
    sizes: tuple[int, int] | None = None,
    district: Author | None = None,
    visits: Sequence[Visit] = (),
    sparse: bool = False,
    conditions: Sequence[str] = (),
    allergy_share: float = 0.15,
) -> PatientHistory:
    """One patient's record over the last ``years`` (``density`` scales how eventful).

    With ``sizes`` = (least, most) the record is redrawn busier while it has fewer documents
    than ``least`` and trimmed at random to ``most`` (the first diagnosis of a chronic condition
    and the fortnight's visits are never dropped).  ``conditions`` are chronic codes the
    patient has for certain (besides those drawn); ``allergy_share`` is the chance of
    allergies.
    """
    for _ in range(8):
        life = _Life(
            rng, patient, today=today, tz=tz, authors=authors, organisation=organisation,
            years=years, density=density, district=district, visits=visits,
            conditions=conditions, allergy_share=allergy_share,
        )  # fmt: skip
        docs = life.build(sparse=sparse, most=sizes[1] if sizes else None)
        if sizes is None or sparse or len(docs) >= sizes[0]:
            break
        density *= 1.5
    if sizes is not None:
        life.trim(sizes[1])
    return life.finish()


def _signal_only(
    rng: random.Random,
    patient: HistoryPatient,
    *,
    today: dt.date,
    tz: dt.tzinfo,
    authors: Authors,
) -> PatientHistory:
    """Allergies and blood group of a patient whose record has no documents."""
    child = _age_on(patient.birth_date, today) < _ADULT
    doctor = authors.pick(rng, "Педиатрия" if child else "Терапия")
    since = max(patient.birth_date, today - dt.timedelta(days=3 * 365))

    def noted() -> dt.datetime:
        day = since + dt.timedelta(days=int(rng.random() * max(1, (today - since).days)))
        local = dt.datetime.combine(day, dt.time(_ri(rng, 9, 17), _ri(rng, 0, 59)), tz)
        return local.astimezone(dt.UTC)

    allergies = [(s, r, sev, noted(), doctor.staff_id) for s, r, sev in _draw_allergies(rng)]
    drawn = _draw_blood(rng)
    blood = (*drawn, noted(), doctor.staff_id) if drawn is not None else None
    return PatientHistory(patient.id, [], allergies, [], blood)


def _patient_rng(base: int, patient_id: int) -> random.Random:
    return random.Random(base * 1_000_003 + patient_id)


def _visits(session: Session, authors: Authors, tz: dt.tzinfo) -> dict[int, list[Visit]]:
    """Every booking of the demo schedules (cancelled ones too), by patient, with its encounter
    if the visit took place."""
    rows = session.execute(
        select(
            Appointment.patient_id,
            ScheduleSlot.staff_id,
            ScheduleSlot.starts_at,
            Appointment.visit_type,
            Encounter.id,
            Encounter.started_at,
            Encounter.finished_at,
        )
        .join(ScheduleSlot, ScheduleSlot.id == Appointment.slot_id)
        .outerjoin(Encounter, Encounter.appointment_id == Appointment.id)
        .order_by(ScheduleSlot.starts_at, Appointment.id)
    ).all()
    out: dict[int, list[Visit]] = {}
    for pid, staff_id, starts, vt, enc_id, started, finished in rows:
        author = authors.by_id.get(staff_id)
        if author is None:
            continue
        out.setdefault(pid, []).append(Visit(author, starts, vt, enc_id, started, finished))
    return out


def seed_history(
    session: Session,
    *,
    rng: random.Random,
    today: dt.date,
    tz: dt.tzinfo,
    patients: Sequence[HistoryPatient],
    focus_staff_id: int,
    organisation: str,
) -> int:
    """Write the demo's medical history (in the caller's transaction); returns the documents.

    Args:
        session: The demo's session, with the staff and the schedules already flushed.
        rng: The demo's generator; one number is drawn from it, each patient gets their own.
        today: The demo's today: the record ends the day before.
        tz: The clinic's time zone (visit hours are local).
        patients: Everyone on the list.
        focus_staff_id: The doctor the demo signs in as: today's patients of theirs get the
            fullest records.
        organisation: The polyclinic's name, printed on its own documents.
    """
    base = rng.getrandbits(48)
    authors = load_authors(session)
    visits = _visits(session, authors, tz)
    focus = {
        pid
        for pid, vs in visits.items()
        for v in vs
        if v.author.staff_id == focus_staff_id and v.starts_at.astimezone(tz).date() == today
    }

    def histories() -> Iterator[PatientHistory]:
        for pt in patients:
            prng = _patient_rng(base, pt.id)
            mine = visits.get(pt.id, [])
            if pt.id in focus:
                district = authors.by_id.get(focus_staff_id)
                tier = _FOCUS
            elif mine:
                district = next((v.author for v in mine if v.author.specialty in _DISTRICT), None)
                tier = _RICH
            elif prng.random() < _SPARSE_SHARE:
                yield patient_history(
                    prng, pt, today=today, tz=tz, authors=authors, organisation=organisation,
                    years=prng.uniform(1, 3), sparse=True,
                )  # fmt: skip
                continue
            else:  # no documents; allergies and blood group like everyone's
                yield _signal_only(prng, pt, today=today, tz=tz, authors=authors)
                continue
            sizes, years = tier.draw(prng)
            yield patient_history(
                prng, pt, today=today, tz=tz, authors=authors, organisation=organisation,
                years=years, density=tier.density, sizes=sizes, district=district, visits=mine,
            )  # fmt: skip

    return write_histories(session, histories())


# --- writing ------------------------------------------------------------------------------------
# Rows go straight to the driver's executemany, each value through its column type's own bind
# processor — what a Core insert does, without Core's per-row bookkeeping, which cost more than
# SQLite's own work here.  (The ORM's bulk insert is slower still: it groups rows by which of
# their columns are None and sends one statement per run, nearly one per row on a record.)
# Document ids are taken before the insert rather than returned by it: SQLite answers INSERT …
# RETURNING in parameter order one row per statement.  The body is serialised here without
# escaping Cyrillic (the JSON column's default ``json.dumps`` writes «\u0416» for «Ж»): the same
# JSON when read, a third of the bytes, and bytes are what SQLite spends its time on.
_DOC_TABLE = cast(Table, EmkDocument.__table__)
_DX_TABLE = cast(Table, DocumentDiagnosis.__table__)
_LAB_TABLE = cast(Table, LabResult.__table__)
_BATCH = 2_000


def _insert_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, ready: Iterable[str] = ()
) -> None:
    """INSERT ``rows`` (dicts with the same keys, named as ``table``'s columns) in one
    executemany; the columns named in ``ready`` hold values already in the driver's form."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    keys = list(compiled.positiontup or rows[0])  # the statement's parameter order
    skip = set(ready)
    columns: list[list[Any]] = []
    for key in keys:  # column by column: one processor lookup per column, not per value
        values = [r[key] for r in rows]
        process = None if key in skip else table.c[key].type.bind_processor(dialect)
        columns.append(values if process is None else [process(v) for v in values])
    params: list[Any] = list(zip(*columns, strict=True))
    if not compiled.positional:
        params = [dict(zip(keys, values, strict=True)) for values in params]
    conn.exec_driver_sql(str(compiled), params)


def _new_document_ids(session: Session, n: int) -> list[int]:
    """``n`` ids for new documents: from the id sequence on PostgreSQL (safe beside other
    writers); on SQLite above the highest id, which holds because the caller's transaction has
    written already and SQLite lets one writer in at a time."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('emk_document', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
        )
    first = (session.scalar(select(func.max(EmkDocument.id))) or 0) + 1
    return list(range(first, first + n))


def _doc_row(doc_id: int, patient_id: int, d: _Doc) -> dict[str, Any]:
    """The row :func:`services.emk.add_document` would write for this document."""
    body: dict[str, Any] = dict(d.details)
    body["sections"] = [[t, v] for t, v in d.sections]
    lab_words = [f"{x.test_name} {x.value_text}" for x in d.labs]
    author_name = d.author.name
    return {
        "id": doc_id,
        "patient_id": patient_id,
        "kind": d.kind,
        "occurred_at": d.at,
        "specialty": d.specialty,
        "title": d.title[:200],
        "summary": d.summary[:500],
        "body": json.dumps(body, ensure_ascii=False),
        "search_text": search_text_of(
            d.title, d.summary, d.sections, d.diagnoses,
            [author_name, d.organisation, *lab_words, *(str(v) for v in d.details.values())],
        ),
        "author_name": author_name[:160],
        "organisation": d.organisation[:200],
        "encounter_id": d.encounter_id,
        "signed_at": d.signed_at or d.at,
        "signed_by": d.author.staff_id,
        "version": 1,
        "supersedes_id": None,
        "amend_reason": "",
        "study_uid": d.study_uid,
    }  # fmt: skip


def write_histories(session: Session, histories: Iterable[PatientHistory]) -> int:
    """Insert the records in bulk (flushed, not committed); returns the documents written.

    ``histories`` may be a generator: they are written in batches of about ``_BATCH``
    documents as they come, so the whole demo is never held in memory at once — nor walked
    over and over by the garbage collector, which cost more than a tenth of the time.
    """
    written = 0
    batch: list[PatientHistory] = []
    size = 0
    for h in histories:
        batch.append(h)
        size += len(h.documents)
        if size >= _BATCH:
            written += _write_batch(session, batch)
            batch, size = [], 0
    if batch:
        written += _write_batch(session, batch)
    return written


def _write_batch(session: Session, histories: Sequence[PatientHistory]) -> int:
    written = 0
    docs = [(h.patient_id, d) for h in histories for d in h.documents]
    if docs:
        chunk = docs
        ids = _new_document_ids(session, len(chunk))
        _insert_rows(
            session,
            _DOC_TABLE,
            [_doc_row(doc_id, pid, d) for doc_id, (pid, d) in zip(ids, chunk, strict=True)],
            ready=["body"],
        )
        dx_rows: list[dict[str, Any]] = []
        lab_rows: list[dict[str, Any]] = []
        for doc_id, (pid, d) in zip(ids, chunk, strict=True):
            for i, x in enumerate(d.diagnoses):
                dx_rows.append(
                    {"document_id": doc_id, "position": i, "role": x.role, "code": x.code,
                     "character": x.character, "note": x.note[:300]}
                )  # fmt: skip
            for lab in d.labs:
                lab_rows.append(
                    {"document_id": doc_id, "patient_id": pid, "test_code": lab.test_code,
                     "test_name": lab.test_name, "value": lab.value,
                     "value_text": lab.value_text or (
                         number_ru(lab.value) if lab.value is not None else ""),
                     "unit": lab.unit, "ref_low": lab.ref_low, "ref_high": lab.ref_high,
                     "flag": _flag(lab), "taken_at": d.at}
                )  # fmt: skip
        _insert_rows(session, _DX_TABLE, dx_rows)
        _insert_rows(session, _LAB_TABLE, lab_rows)
        written += len(ids)
    allergy_rows = [
        {"patient_id": h.patient_id, "substance": s, "reaction": r, "severity": sev,
         "noted_at": at, "noted_by": by, "ended_at": None, "ended_by": None, "end_reason": ""}
        for h in histories
        for s, r, sev, at, by in h.allergies
    ]  # fmt: skip
    _insert_rows(session, cast(Table, Allergy.__table__), allergy_rows)
    condition_rows = [
        {"patient_id": h.patient_id, "code": code, "since": since, "specialty": spec,
         "noted_by": by, "ended_on": None, "ended_by": None, "end_reason": ""}
        for h in histories
        for code, since, spec, by in h.conditions
    ]  # fmt: skip
    _insert_rows(session, cast(Table, DispensaryCondition.__table__), condition_rows)
    blood_rows = [
        {"patient_id": h.patient_id, "abo": b[0], "rh": b[1], "noted_at": b[2],
         "noted_by": b[3], "version_id": 1}
        for h in histories
        if (b := h.blood) is not None
    ]  # fmt: skip
    _insert_rows(session, cast(Table, BloodType.__table__), blood_rows)
    return written
