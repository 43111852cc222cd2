"""The drug catalog: МНН with dosage forms and strengths, and the Russian the signa needs.

The catalog is ``resources/drugs/catalog.toml`` (see its SOURCE.md): ~140 drugs, read once
and kept in memory, so a keystroke's search is a scan of a few hundred precomputed strings.
A drug is found by the start of any word of its Russian МНН, its Latin genitive or a former
name («амло», «amlo», «феназ»), case and «ё» ignored.

The flags drive the prescription rules in :mod:`services.prescriptions`: ``one_per_blank``
(107-1/у holds such a drug alone), ``only_148_88`` (the print-shop blank only) and
``preferential`` (on the list for preferential supply).  The dosage form knows its dosing unit
in the cases Russian needs («по 1 таблетке», «по 2 таблетки», «30 таблеток»), so the signa is
built, not typed.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "BLANK_148_88",
    "DosageForm",
    "Drug",
    "DrugForm",
    "count_word",
    "drug",
    "drugs",
    "format_number",
    "latin_strength",
    "number_words",
    "search",
]

BLANK_148_88 = "148-1/у-88"
MAX_QUERY = 100
_WORD = re.compile(r"[\wё]+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DosageForm:
    """A dosage form as the blank and the signa use it (``[form.<code>]`` of the catalog)."""

    code: str
    name: str  # «таблетки»
    latin: str  # «Tab.»
    unit: tuple[str, str, str, str]  # nominative, genitive sg, genitive pl, dative sg
    route: str  # «внутрь»
    pack: tuple[str, str, str] | None  # «ингалятор» in three cases; None: counted in units

    @property
    def counted_in_packs(self) -> bool:
        return self.pack is not None


@dataclass(frozen=True, slots=True)
class DrugForm:
    form: DosageForm
    strengths: tuple[str, ...]
    per_pack: int | None  # dosing units in one package (forms with a ``pack``)


@dataclass(frozen=True, slots=True)
class Drug:
    """One МНН of the catalog."""

    id: str
    mnn: str  # «Амлодипин»
    latin: str  # «Amlodipini» (genitive, for the Rp. line)
    atc: str
    also: tuple[str, ...]
    preferential: bool
    one_per_blank: bool
    only_148_88: bool
    limits: Mapping[str, int]  # strength → the most one prescription may hold
    forms: tuple[DrugForm, ...]

    def form(self, code: str) -> DrugForm | None:
        return next((f for f in self.forms if f.form.code == code), None)


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


@dataclass(frozen=True, slots=True)
class _Catalog:
    drugs: tuple[Drug, ...]
    by_id: Mapping[str, Drug]
    # Per drug: the folded МНН, and every word start a query may match.
    heads: tuple[str, ...]
    words: tuple[tuple[str, ...], ...]


@functools.cache
def _catalog() -> _Catalog:
    text = resources.files("resources").joinpath("drugs/catalog.toml").read_text("utf-8")
    data = tomllib.loads(text)
    forms = {
        code: DosageForm(
            code=code,
            name=f["name"],
            latin=f["latin"],
            unit=tuple(f["unit"]),
            route=f["route"],
            pack=tuple(f["pack"]) if "pack" in f else None,
        )
        for code, f in data["form"].items()
    }
    out: list[Drug] = []
    for d in data["drug"]:
        out.append(
            Drug(
                id=d["id"],
                mnn=d["mnn"],
                latin=d["latin"],
                atc=d.get("atc", ""),
                also=tuple(d.get("also", ())),
                preferential=bool(d.get("preferential", False)),
                one_per_blank=bool(d.get("one_per_blank", False)),
                only_148_88=d.get("blank", "") == BLANK_148_88,
                limits=dict(d.get("limits", {})),
                forms=tuple(
                    DrugForm(forms[code], tuple(f["strengths"]), f.get("per_pack"))
                    for code, f in d["forms"].items()
                ),
            )
        )
    words = tuple(
        tuple(w for name in (d.mnn, d.latin, *d.also) for w in _WORD.findall(_fold(name)))
        for d in out
    )
    return _Catalog(
        drugs=tuple(out),
        by_id={d.id: d for d in out},
        heads=tuple(_fold(d.mnn) for d in out),
        words=words,
    )


def drugs() -> tuple[Drug, ...]:
    """Every drug of the catalog, in the catalog's order."""
    return _catalog().drugs


def drug(drug_id: str) -> Drug | None:
    return _catalog().by_id.get(drug_id)


def search(query: str, limit: int = 30) -> list[Drug]:
    """Drugs whose names have a word starting with each word of ``query``.

    Ranked: the Russian МНН starting with the query, then the rest, each in alphabetical order
    of the МНН («метф» finds Метформин; «кисл» finds every «… кислота»).
    """
    needles = _WORD.findall(_fold(query[:MAX_QUERY]))
    if not needles or limit <= 0:
        return []
    cat = _catalog()
    head = " ".join(needles)
    first: list[Drug] = []
    rest: list[Drug] = []
    for d, h, ws in zip(cat.drugs, cat.heads, cat.words, strict=True):
        if all(any(w.startswith(n) for w in ws) for n in needles):
            (first if h.startswith(head) else rest).append(d)
    first.sort(key=lambda d: _fold(d.mnn))
    rest.sort(key=lambda d: _fold(d.mnn))
    return (first + rest)[:limit]


# --- the Russian and the Latin of a prescription ---------------------------------------------
def format_number(value: float) -> str:
    """1 → «1», 0.5 → «0,5», 1.25 → «1,25»: how a dose is written on a Russian blank."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def count_word(n: float, forms: tuple[str, str, str]) -> str:
    """The word after a count: forms are (1, 2–4, 5+) — «таблетка, таблетки, таблеток».

    A fraction takes the genitive singular («0,5 таблетки»).
    """
    if n != int(n):
        return forms[1]
    k = int(n) % 100
    if 11 <= k <= 14:
        return forms[2]
    if k % 10 == 1:
        return forms[0]
    if 2 <= k % 10 <= 4:
        return forms[1]
    return forms[2]


_LATIN_UNITS = (
    ("мкг", "mcg"),
    ("мг", "mg"),
    ("мл", "ml"),
    ("МЕ", "IU"),
    ("ЕД", "U"),
    ("доза", "dose"),
    ("ч", "h"),
    ("г", "g"),
)
_LATIN_UNIT = re.compile(
    r"(?<![\wа-яё])(" + "|".join(r for r, _ in _LATIN_UNITS) + r")(?![\wа-яё])"
)


def latin_strength(strength: str) -> str:
    """«100 мкг/доза» → «100 mcg/dose», «500 мг + 125 мг» → «500 mg + 125 mg» (the Rp. line)."""
    table = dict(_LATIN_UNITS)
    return _LATIN_UNIT.sub(lambda m: table[m.group(1)], strength)


_ONES = ("", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
_TEENS = (
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
)
_TENS = (
    "",
    "",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
)
_HUNDREDS = (
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
)


def _below_thousand(n: int, feminine: bool = False) -> list[str]:
    words = [_HUNDREDS[n // 100]]
    rest = n % 100
    if 10 <= rest < 20:
        words.append(_TEENS[rest - 10])
    else:
        words.append(_TENS[rest // 10])
        one = _ONES[rest % 10]
        if feminine and rest % 10 in (1, 2):
            one = "одна" if rest % 10 == 1 else "две"
        words.append(one)
    return [w for w in words if w]


def number_words(n: int) -> str:
    """30 → «тридцать», 1 → «один», 2021 → «две тысячи двадцать один» (0 < n < 1 000 000).

    The quantity written out in words beside the digits («№ 30 (тридцать)»), so a figure
    added on paper cannot change what the pharmacy dispenses.
    """
    if not 0 < n < 1_000_000:
        raise ValueError(f"number out of range: {n}")
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += _below_thousand(thousands, feminine=True)
        words.append(count_word(thousands, ("тысяча", "тысячи", "тысяч")))
    words += _below_thousand(rest)
    return " ".join(words)
