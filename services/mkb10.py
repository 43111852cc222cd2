"""The МКБ-10 catalog (ICD-10, Russian edition): look codes up, search as the doctor types.

The catalog is the Ministry of Health's NSI directory 1.2.643.5.1.13.13.11.1005 shipped in
``resources/mkb10/`` (see its SOURCE.md).  It is small (15,038 rows) and never changes while the
application runs, so it lives in memory: loading is one pass over the CSV, and everything a
keystroke needs — folded names, the sorted code list — is computed then, so a search is a
bisect for codes plus one scan of ~14k precomputed strings with C-level ``in`` for names.

Two kinds of question are asked of it, and they must not be confused:

* *What does this code mean?* — for records already written.  Every code ever published
  answers, withdrawn ones included (:meth:`Mkb10Catalog.lookup`, :meth:`Mkb10Catalog.name`),
  because an old protocol must still read right.
* *May the doctor put this code on a new diagnosis?* — only an in-use code at the most detailed
  level, never a class or a block, and never an asterisk code as the main diagnosis
  (:meth:`Mkb10Catalog.check_new_diagnosis`; :meth:`Mkb10Catalog.search` offers nothing else).

Doctors type codes on a Russian keyboard: «о06ю9» is J06.9 typed without switching the layout
(the J key types «о», the «.» key types «ю»), while «Е11.9» written with a Cyrillic capital is a
look-alike of E11.9.  Lower-case Cyrillic is read by key position, an upper-case look-alike by its
shape; search also offers the other reading after the first.
"""

from __future__ import annotations

import bisect
import csv
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import resources
from services.errors import ValidationError

__all__ = [
    "FIELD",
    "MKB10_OID",
    "MKB10_VERSION",
    "Mkb10Catalog",
    "MkbEntry",
    "catalog",
    "catalog_path",
]

MKB10_OID = "1.2.643.5.1.13.13.11.1005"
MKB10_VERSION = "2.27"
FIELD = "Диагноз по МКБ-10"
#: Longer queries are cut: no diagnosis name needs more, and hostile input stays cheap.
MAX_QUERY = 200
_MAX_CODE = 16  # "XXII", "C00-C97", "S02.00" … anything longer is not a code

# Lower-case Cyrillic → the Latin letter on the same key of a ЙЦУКЕН/QWERTY keyboard; «б» and
# «ю» sit on «,» and «.», which in a code both mean the dot.
_KEYS_CYR = "йцукенгшщзфывапролдячсмитьбю"
_KEYS_LAT = "qwertyuiopasdfghjklzxcvbnm.."
# Upper-case Cyrillic letters drawn like Latin ones, as in codes typed into Word documents.
_LOOK_CYR = "АВСЕНКМОРТХУ"
_LOOK_LAT = "ABCEHKMOPTXY"


def _tables() -> tuple[dict[int, str], dict[int, str]]:
    """``str.translate`` tables for the two readings of Cyrillic typed into a code.

    Primary: lower case by key («о» → J), upper case by shape where it is a look-alike
    («О» → O), else by key («Ф» → A).  Other: the reverse choice for every look-alike letter.
    """
    by_key = dict(zip(_KEYS_CYR, _KEYS_LAT, strict=True))
    look = dict(zip(_LOOK_CYR, _LOOK_LAT, strict=True))
    primary: dict[int, str] = {}
    other: dict[int, str] = {}
    for cyr in set(by_key) | {c.lower() for c in look}:
        up = cyr.upper()
        key, shape = by_key.get(cyr, look.get(up, "")), look.get(up, by_key.get(cyr, ""))
        primary[ord(cyr)], primary[ord(up)] = key, shape
        other[ord(cyr)], other[ord(up)] = shape, key
    return primary, other


_PRIMARY, _OTHER = _tables()
_LAT_TO_CYR = str.maketrans(
    "qwertyuiop[]asdfghjkl;'zxcvbnm,.`", "йцукенгшщзхъфывапролджэячсмитьбюё"
)
_LAT_LAYOUT = re.compile(r"[a-z\[\];',.`]+")
_WORD = re.compile(r"\w+")
_CODE_PREFIX = re.compile(r"[A-Z](?:\d{1,2}(?:\.\d{0,2}|\d{1,2})?)?")
_NO_DOT = re.compile(r"([A-Z]\d\d)(\d{1,2})")
_RUBRIC = re.compile(r"[A-Z]\d\d(?:\.\d{1,2})?")


@dataclass(frozen=True, slots=True)
class MkbEntry:
    """One row of the catalog.

    ``selectable`` is true for a rubric or sub-rubric that may stand as a diagnosis: not a class
    (I..XXII) or block (A00-A09), and with no in-use subdivision below it (coding to the most
    detailed level: J06 → J06.9, S02.0 → S02.00).  It says nothing about ``actual``.
    """

    code: str
    name: str
    actual: bool
    asterisk: bool
    """A manifestation code, «*» (ADDL_CODE=2): an additional code, never the main diagnosis."""
    dagger: bool
    """An aetiology code, «†» (ADDL_CODE=1), paired with an asterisk code."""
    selectable: bool


def _fold(text: str) -> str:
    """Case and «ё» folded, every word prefixed by one space: ``" word" in folded`` is a
    word-prefix test that runs in C."""
    words = _WORD.findall(text.lower().replace("ё", "е"))
    return " " + " ".join(words) if words else ""


def _readings(text: str) -> list[str]:
    """The code(s) a typed string can mean: the primary reading first, then the other one."""
    raw = "".join(text.split()).rstrip("*†+")
    out: list[str] = []
    for table in (_PRIMARY, _OTHER):
        code = raw.translate(table).upper().replace(",", ".")
        no_dot = _NO_DOT.fullmatch(code)
        if no_dot:
            code = f"{no_dot[1]}.{no_dot[2]}"
        if code not in out:
            out.append(code)
    return out


class Mkb10Catalog:
    """All rows of one version of the directory, indexed for lookup and type-ahead search."""

    def __init__(self, path: Path) -> None:
        """Read the NSI CSV (``;``-separated, UTF-8) at ``path``."""
        self.path = path
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=";")
            col = {name: i for i, name in enumerate(next(reader))}
            rows = [r for r in reader if r]
        self._rows = len(rows)
        i_id, i_code, i_name = col["ID"], col["MKB_CODE"], col["MKB_NAME"]
        i_parent, i_addl, i_actual, i_date = (
            col["ID_PARENT"],
            col["ADDL_CODE"],
            col["ACTUAL"],
            col["DATE"],
        )
        code_of = {r[i_id]: r[i_code] for r in rows}
        addl_of = {r[i_id]: r[i_addl] for r in rows}
        parent_of = {r[i_code]: code_of.get(r[i_parent], "") for r in rows}
        # Children in use, per parent code: a code with any is not a diagnosis by itself.
        self._children: dict[str, list[str]] = {}
        for r in rows:
            if r[i_parent] and r[i_actual] == "1":
                self._children.setdefault(code_of[r[i_parent]], []).append(r[i_code])
        self._changed: dict[str, str] = {}
        self._entries: dict[str, MkbEntry] = {}
        for r in rows:
            code = r[i_code]
            # ICD-10 marks a whole asterisk category; 2.27 forgot the flag on G94.3 and I98.3.
            parent_addl = addl_of.get(r[i_parent], "")
            asterisk = r[i_addl] == "2" or (
                parent_addl == "2" and _RUBRIC.fullmatch(code) is not None
            )
            entry = MkbEntry(
                code=code,
                name=r[i_name],
                actual=r[i_actual] == "1",
                asterisk=asterisk,
                dagger=r[i_addl] == "1",
                selectable=_RUBRIC.fullmatch(code) is not None and code not in self._children,
            )
            seen = self._entries.get(code)
            if seen is not None and seen.actual and not entry.actual:
                continue  # 2.27 has no code twice; should NSI re-issue one, the live row wins
            self._entries[code] = entry
            if r[i_date]:
                self._changed[code] = r[i_date]
        offered = sorted(
            (e for e in self._entries.values() if e.actual and e.selectable), key=lambda e: e.code
        )
        self._offered = offered
        self._codes = [e.code for e in offered]  # sorted: a code prefix is a bisect range
        folded = {
            e.code: _fold(e.name) for e in self._entries.values() if _RUBRIC.fullmatch(e.code)
        }
        self._folded = [folded[e.code] for e in offered]
        # The Russian edition names E11 «Сахарный диабет 2 типа» but E11.9 «Инсулиннезависимый
        # сахарный диабет без осложнений»: a sub-rubric is also found by its rubrics' names.
        self._folded_ctx = []
        for e, own in zip(offered, self._folded, strict=True):
            up = parent_of[e.code]
            while _RUBRIC.fullmatch(up):
                own += folded[up]
                up = parent_of[up]
            self._folded_ctx.append(own)

    def __len__(self) -> int:
        """Rows read from the file (15,038 in version 2.27)."""
        return self._rows

    def lookup(self, code: str) -> MkbEntry | None:
        """The row for ``code`` (any row, withdrawn ones included), or None.

        Case, spaces, a missing dot («j069»), a comma for the dot, a trailing «*»/«†»/«+» and
        Cyrillic typed for Latin are all forgiven.
        """
        if not code or len(code) > MAX_QUERY:
            return None
        for reading in _readings(code):
            entry = self._entries.get(reading)
            if entry is not None:
                return entry
        return None

    def name(self, code: str) -> str:
        """The name to print for a code on an existing record.

        A withdrawn code still has its name; a code the directory never had is shown as typed,
        marked, so the record reads honestly rather than blank.
        """
        entry = self.lookup(code)
        if entry is not None:
            return entry.name
        shown = " ".join(code.split())[:_MAX_CODE] or "—"
        return f"{shown} (нет в справочнике)"

    def search(self, query: str, limit: int = 50) -> list[MkbEntry]:
        """Codes a doctor may pick for a new diagnosis, matching what is typed so far.

        A code prefix («j», «J06», «j069», «о06ю9») or words that each start a word of the name
        («остр бронх»; case and «ё» ignored; Russian typed in the Latin layout understood).
        Ranked: exact code; code prefix, shorter codes first; name starting with the query;
        other name matches; matches only through the rubric's name (E11.9 for «диабет 2
        типа»).  Within a rank, code order.
        """
        query = query[:MAX_QUERY]
        if limit <= 0 or not query.strip():
            return []
        found: list[int] = []
        seen: set[int] = set()

        def take(indices: list[int]) -> None:
            for i in indices:
                if i not in seen:
                    seen.add(i)
                    found.append(i)

        codes = [c for c in _readings(query) if _CODE_PREFIX.fullmatch(c)]
        take([i for c in codes if (i := self._index(c)) is not None])
        for c in codes:
            lo = bisect.bisect_left(self._codes, c)
            hi = bisect.bisect_left(self._codes, c + "\uffff", lo)
            take(sorted(range(lo, hi), key=lambda i: len(self._codes[i])))
        if len(found) < limit:
            tiers: tuple[list[int], list[int], list[int]] = ([], [], [])
            own, full = self._folded, self._folded_ctx
            for needles in self._name_needles(query):
                head = "".join(needles)
                first, rest = needles[0], needles[1:]
                for i in [i for i, s in enumerate(full) if first in s]:
                    if not all(n in full[i] for n in rest):
                        continue
                    if own[i].startswith(head):
                        tiers[0].append(i)
                    elif all(n in own[i] for n in needles):
                        tiers[1].append(i)
                    else:
                        tiers[2].append(i)
            for tier in tiers:
                take(sorted(set(tier)))
        return [self._offered[i] for i in found[:limit]]

    def _index(self, code: str) -> int | None:
        i = bisect.bisect_left(self._codes, code)
        return i if i < len(self._codes) and self._codes[i] == code else None

    @staticmethod
    def _name_needles(query: str) -> list[list[str]]:
        """Word-prefix needles for the query as typed and, if it is all Latin-layout keys,
        as the Russian it was meant to be («jcnhsq» → «острый»)."""
        lowered = query.lower()
        readings = [lowered]
        if all(_LAT_LAYOUT.fullmatch(t) for t in lowered.split()):
            readings.append(lowered.translate(_LAT_TO_CYR))
        out = []
        for reading in readings:
            needles = _fold(reading).split(" ")[1:]
            if needles:
                out.append([" " + n for n in needles])
        return out

    def check_new_diagnosis(self, code: str, *, main: bool) -> MkbEntry:
        """The entry for a code being put on a new diagnosis, or the rule it breaks.

        ``main`` is true for the main diagnosis — and for a diagnosis that stands alone, which
        is the main one by definition.

        Raises:
            ValidationError: unknown, class or block, withdrawn, not detailed enough, or an
                asterisk code as the main diagnosis; ``rule`` says which, in Russian.
        """
        entry = self.lookup(code)
        if entry is None:
            shown = " ".join(code.split())[:_MAX_CODE]
            rule = (
                f"нет кода «{shown}» в справочнике (версия {MKB10_VERSION})"
                if shown
                else "укажите код"
            )
            raise ValidationError(FIELD, rule, key="mkb10")
        if _RUBRIC.fullmatch(entry.code) is None:
            kind = "блок" if "-" in entry.code else "класс"
            raise ValidationError(
                FIELD, f"{entry.code} — это {kind}, выберите рубрику внутри него", key="mkb10"
            )
        if not entry.actual:
            since = self._changed.get(entry.code)
            when = f" с {since}" if since else ""
            raise ValidationError(
                FIELD,
                f"код {entry.code} исключён из справочника{when}, выберите действующий код",
                key="mkb10",
            )
        if not entry.selectable:
            kids = self._children[entry.code]
            raise ValidationError(
                FIELD, f"уточните до подрубрики: {kids[0]}–{kids[-1]}", key="mkb10"
            )
        if main and entry.asterisk:
            raise ValidationError(
                FIELD,
                "код со звёздочкой (*) — дополнительный, не может быть основным диагнозом",
                key="mkb10",
            )
        return entry


def catalog_path() -> Path:
    """The shipped CSV; its name carries the OID and version, so the constants cannot drift."""
    return Path(resources.__file__).parent / "mkb10" / f"{MKB10_OID}_{MKB10_VERSION}.csv"


_lock = threading.Lock()
_catalog: Mkb10Catalog | None = None


def catalog() -> Mkb10Catalog:
    """The shipped catalog, loaded on first use — once, even if two threads ask together."""
    global _catalog
    if _catalog is None:
        with _lock:
            if _catalog is None:
                _catalog = Mkb10Catalog(catalog_path())
    return _catalog
