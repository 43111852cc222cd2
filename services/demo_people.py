"""Synthetic Russian people for the demo polyclinic and the bulk benchmark loader.

Both :mod:`services.demo` and :mod:`services.bulk_seed` draw names, ages, addresses and phones
from here, so the 5,000-patient demo and a 1,000,000-patient benchmark look alike and a fix to
the name rules lands in both.  The raw name lists live in ``resources/demo/names.json`` (plain
data, not code); this module holds the grammar: the female form of a surname and the
patronymic that goes with a father's name.

Every draw goes through the ``random.Random`` the caller passes in, so a given seed always
produces the same people.  The generator is on the hot path of the bulk loader (a million rows
in a few minutes), which is why weighted choices use precomputed cumulative weights and
``bisect`` instead of ``random.choices`` per call.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final, TypeVar

from services.models import Sex
from services.search_keys import make_search_key

__all__ = [
    "ADULT_AGE",
    "BULK_POLICY_BASE",
    "BULK_SNILS_BASE",
    "DEMO_POLICY_BASE",
    "DEMO_SNILS_LOW",
    "STAFF_SNILS_BASE",
    "MaleName",
    "NameData",
    "PeopleGenerator",
    "Person",
    "female_surname",
    "load_name_data",
    "surname_for",
    "years_before",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Suffixes whose female form adds «а»: Иванов → Иванова, Ильин → Ильина, Синицын → Синицына.
_ADD_A: Final = ("ов", "ев", "ёв", "ин", "ын")
# Adjectival surnames: Достоевский → Достоевская, Трубецкой → Трубецкая, Толстой → Толстая.
# A bare «-ой» counts only in a longer word: Цой is Korean and does not change.
_ADJECTIVAL: Final = ("ский", "цкий", "ской", "цкой")
_ADJECTIVAL_OI_MIN_LEN: Final = 5

# Mobile operators' DEF codes seen in Moscow; every one is a mobile range for phonenumbers.
_MOBILE_CODES: Final = (
    "903", "905", "906", "909", "910", "915", "916", "917", "919", "925",
    "926", "929", "962", "963", "964", "965", "966", "967", "968", "977",
    "985", "999",
)  # fmt: skip

# Share of patients by age band: (lowest age, highest age, weight).  A city polyclinic's list
# is older than the city: pensioners are registered and come most; children are ~20 %.
_AGE_BANDS: Final = (
    (0, 6, 8.0),
    (7, 13, 7.5),
    (14, 17, 4.5),
    (18, 29, 11.0),
    (30, 39, 14.0),
    (40, 49, 13.0),
    (50, 59, 12.0),
    (60, 69, 14.0),
    (70, 79, 11.0),
    (80, 96, 5.0),
)
ADULT_AGE: Final = 18

# Number ranges for generated identifiers, shared so that the demo and the bulk loader never
# collide: demo patients' СНИЛС bodies stay below BULK_SNILS_BASE and their ЕНП bodies below
# BULK_POLICY_BASE (services.bulk_seed appends above them); staff have their own СНИЛС range.
DEMO_SNILS_LOW: Final = 100_000_000
BULK_SNILS_BASE: Final = 300_000_000
STAFF_SNILS_BASE: Final = 990_000_000
DEMO_POLICY_BASE: Final = 450_000_000_000_000  # «45» — Moscow's ОКАТО code leads the ЕНП
BULK_POLICY_BASE: Final = 457_000_000_000_000

# The registry only goes back so far: attachment dates start here at the earliest.
_ATTACH_EPOCH: Final = dt.date(2008, 1, 1)


@dataclass(frozen=True)
class MaleName:
    """A male first name with the patronymics it gives to a son and to a daughter.

    The forms are stored, not derived: Илья → Ильич/Ильинична, Лев → Львович/Львовна and
    Яков → Яковлевич break every simple suffix rule, and a wrong patronymic in a demo is the
    first thing a Russian user notices.
    """

    name: str
    patronymic_male: str
    patronymic_female: str

    def patronymic(self, sex: Sex) -> str:
        return self.patronymic_male if sex == Sex.MALE else self.patronymic_female


@dataclass(frozen=True)
class NameData:
    """The name lists from ``resources/demo/names.json`` with cumulative weights for bisect."""

    surnames: tuple[str, ...]
    male_names: tuple[MaleName, ...]
    male_cum_weights: tuple[float, ...]
    female_names: tuple[str, ...]
    female_cum_weights: tuple[float, ...]
    streets: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    """One generated person: ФИО, sex and birth date (ids, phone and address come separately)."""

    surname: str
    name: str
    patronymic: str
    sex: Sex
    birth_date: dt.date

    @property
    def search_key(self) -> str:
        return make_search_key(self.surname, self.name, self.patronymic)


@functools.cache
def load_name_data() -> NameData:
    """Read the packaged name lists once per process.

    Raises:
        ValueError: The data file is inconsistent (an empty list, a non-positive weight).
    """
    raw = json.loads(
        resources.files("resources").joinpath("demo", "names.json").read_text(encoding="utf-8")
    )
    males = [
        (
            MaleName(m["name"], m["patronymic_male"], m["patronymic_female"]),
            float(m.get("weight", 1)),
        )
        for m in raw["male_names"]
    ]
    females = [(str(f["name"]), float(f.get("weight", 1))) for f in raw["female_names"]]
    data = NameData(
        surnames=tuple(str(s) for s in raw["surnames"]),
        male_names=tuple(m for m, _ in males),
        male_cum_weights=tuple(itertools.accumulate(w for _, w in males)),
        female_names=tuple(f for f, _ in females),
        female_cum_weights=tuple(itertools.accumulate(w for _, w in females)),
        streets=tuple(str(s) for s in raw["streets"]),
    )
    if not (data.surnames and data.male_names and data.female_names and data.streets):
        raise ValueError("demo name data: every list must be non-empty")
    if any(w <= 0 for _, w in males) or any(w <= 0 for _, w in females):
        raise ValueError("demo name data: weights must be positive")
    log.debug(
        "demo name data: %d surnames, %d male and %d female names, %d streets",
        len(data.surnames),
        len(data.male_names),
        len(data.female_names),
        len(data.streets),
    )
    return data


def female_surname(male: str) -> str:
    """The female form of a surname given in the male form.

    Russian possessive surnames take «-а» (Иванов → Иванова), adjectival ones «-ая»
    (Достоевский → Достоевская, Толстой → Толстая); the rest — Белых, Шевчук, Ким,
    Бондаренко — do not change with sex.
    """
    if male.endswith(_ADD_A):
        return male + "а"
    if male.endswith(_ADJECTIVAL) or (male.endswith("ой") and len(male) >= _ADJECTIVAL_OI_MIN_LEN):
        return male[:-2] + "ая"
    return male


def surname_for(male: str, sex: Sex) -> str:
    return male if sex == Sex.MALE else female_surname(male)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class PeopleGenerator:
    """Draws people, addresses and phones from one ``random.Random``.

    Args:
        rng: The caller's generator; the same seed gives the same people.
        data: Name lists; the packaged ones by default.
    """

    def __init__(self, rng: random.Random, data: NameData | None = None) -> None:
        self.rng = rng
        self.data = data or load_name_data()
        self._female_surnames = {s: female_surname(s) for s in self.data.surnames}
        self._age_cum = tuple(itertools.accumulate(w for _, _, w in _AGE_BANDS))
        adult = [(lo, hi, w) for lo, hi, w in _AGE_BANDS if lo >= ADULT_AGE]
        self._adult_bands = tuple(adult)
        self._adult_cum = tuple(itertools.accumulate(w for _, _, w in adult))

    # --- names -----------------------------------------------------------------------------
    def _weighted(self, items: Sequence[T], cum: Sequence[float]) -> T:
        return items[bisect.bisect(cum, self.rng.random() * cum[-1])]

    def family_name(self) -> str:
        """A surname in the male form (a family shares it; women get the female form)."""
        return self.rng.choice(self.data.surnames)

    def male_name(self) -> MaleName:
        return self._weighted(self.data.male_names, self.data.male_cum_weights)

    def female_name(self) -> str:
        return self._weighted(self.data.female_names, self.data.female_cum_weights)

    def sex(self, *, female_share: float = 0.5) -> Sex:
        return Sex.FEMALE if self.rng.random() < female_share else Sex.MALE

    def person(
        self,
        sex: Sex,
        birth_date: dt.date,
        *,
        family: str | None = None,
        father: MaleName | None = None,
        given: MaleName | None = None,
    ) -> Person:
        """A person of ``sex`` with a sex-consistent ФИО.

        Args:
            sex: The person's sex; surname and patronymic agree with it.
            birth_date: Passed through.
            family: The family surname in the male form; random if not given.
            father: The father's name, which the patronymic is derived from; random if None
                (the father need not be in the registry to have given the patronymic).
            given: A man's own first name, when the caller needs it later (a father's name
                becomes his children's patronymic); random if None.  Ignored for women.
        """
        family = family or self.family_name()
        father = father or self.male_name()
        if sex == Sex.MALE:
            own = given or self.male_name()
            return Person(family, own.name, father.patronymic_male, sex, birth_date)
        return Person(
            self._female_surnames.get(family) or female_surname(family),
            self.female_name(),
            father.patronymic_female,
            sex,
            birth_date,
        )

    # --- ages and dates --------------------------------------------------------------------
    def age(self) -> int:
        """An age in years for a polyclinic's attached population (about 20 % children)."""
        lo, hi, _ = self._weighted(_AGE_BANDS, self._age_cum)
        return self.rng.randint(lo, hi)

    def adult_age(self, *, minimum: int = ADULT_AGE) -> int:
        """An adult's age from the adult part of the distribution, at least ``minimum``."""
        lo, hi, _ = self._weighted(self._adult_bands, self._adult_cum)
        return self.rng.randint(max(lo, minimum), max(hi, minimum))

    def birth_date(self, today: dt.date, age: int) -> dt.date:
        """A birth date that makes the person exactly ``age`` full years old on ``today``."""
        latest = years_before(today, age)
        earliest = years_before(today, age + 1) + dt.timedelta(days=1)
        if age == 0:  # a newborn is registered a few days after birth, not on the day
            latest -= dt.timedelta(days=7)
        span = (latest - earliest).days
        return earliest + dt.timedelta(days=self.rng.randint(0, max(span, 0)))

    def date_between(self, earliest: dt.date, latest: dt.date) -> dt.date:
        if latest <= earliest:
            return earliest
        return earliest + dt.timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def attached_since(self, birth_date: dt.date, today: dt.date) -> dt.date:
        """When the patient was attached: after birth and after the registry went live."""
        earliest = max(birth_date + dt.timedelta(days=3), _ATTACH_EPOCH)
        return self.date_between(earliest, today - dt.timedelta(days=1))

    # --- contacts --------------------------------------------------------------------------
    def phone(self) -> str:
        """A Russian mobile number in E.164, the form ``normalize_phone`` stores."""
        return f"+7{self.rng.choice(_MOBILE_CODES)}{self.rng.randrange(10_000_000):07d}"

    def address(self) -> str:
        """«г. Москва, ул. Профсоюзная, д. 12, кв. 45» (sometimes with a корпус)."""
        rng = self.rng
        house = f"д. {rng.randint(1, 140)}"
        if rng.random() < 0.3:
            house += f", корп. {rng.randint(1, 4)}"
        return f"г. Москва, {rng.choice(self.data.streets)}, {house}, кв. {rng.randint(1, 320)}"
