"""The МКБ-10 catalog against the shipped NSI file: lookup, search as typed, the coding rules."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from services import mkb10
from services.errors import ValidationError
from services.mkb10 import FIELD, MKB10_OID, MKB10_VERSION, Mkb10Catalog, MkbEntry, catalog


@pytest.fixture(scope="module")
def cat() -> Mkb10Catalog:
    return catalog()


def codes(entries: list[MkbEntry]) -> list[str]:
    return [e.code for e in entries]


# --- loading ---------------------------------------------------------------------------------
def test_every_row_of_the_shipped_version_is_loaded(cat: Mkb10Catalog) -> None:
    assert len(cat) == 15_038
    assert cat.path.name == f"{MKB10_OID}_{MKB10_VERSION}.csv"
    assert cat.path.with_name("SOURCE.md").is_file()


def test_the_catalog_loads_once_even_when_threads_race(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mkb10, "_catalog", None)
    built: list[Mkb10Catalog] = []
    start = threading.Barrier(6)

    def ask() -> None:
        start.wait()
        built.append(catalog())

    threads = [threading.Thread(target=ask) for _ in range(6)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.perf_counter() - t0 < 2.0  # about 0.2 s on a desk PC
    assert len(built) == 6
    assert all(c is built[0] for c in built)


# --- lookup ----------------------------------------------------------------------------------
def test_lookup_gives_the_row_with_its_flags(cat: Mkb10Catalog) -> None:
    assert cat.lookup("J06.9") == MkbEntry(
        code="J06.9",
        name="Острая инфекция верхних дыхательных путей неуточненная",
        actual=True,
        asterisk=False,
        dagger=False,
        selectable=True,
    )
    g01 = cat.lookup("G01")
    assert g01 is not None
    assert g01.asterisk
    assert not g01.dagger
    a17 = cat.lookup("A17.0")
    assert a17 is not None
    assert a17.dagger
    assert not a17.asterisk


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("j06.9", "J06.9"),
        ("  J06.9\t", "J06.9"),
        ("j 06 . 9", "J06.9"),
        ("j069", "J06.9"),
        ("J06,9", "J06.9"),
        ("G01*", "G01"),
        ("A17.0†", "A17.0"),
        ("s0200", "S02.00"),
        # The Russian layout: the J key types «о», the «.» key «ю», the «,» key «б».
        ("о06.9", "J06.9"),
        ("о06ю9", "J06.9"),
        ("о06б9", "J06.9"),
        ("у11ю9", "E11.9"),  # E key → «у»
        # A capital Cyrillic look-alike is read by its shape.
        ("А00", "A00"),
        ("Е11.9", "E11.9"),
        ("О06.9", "O06.9"),
        ("Х", "X"),
        # Classes and blocks are rows too.
        ("xxii", "XXII"),
        ("a00-a09", "A00-A09"),
    ],
)
def test_lookup_forgives_how_the_code_was_typed(cat: Mkb10Catalog, typed: str, code: str) -> None:
    entry = cat.lookup(typed)
    assert entry is not None
    assert entry.code == code


def test_lookup_falls_back_to_the_other_reading(cat: Mkb10Catalog) -> None:
    # «ф» is on the A key and is no look-alike; «Ф00» can only be A00.
    entry = cat.lookup("Ф00")
    assert entry is not None
    assert entry.code == "A00"


def test_withdrawn_codes_still_have_their_names(cat: Mkb10Catalog) -> None:
    a90 = cat.lookup("A90")
    assert a90 is not None
    assert not a90.actual
    assert cat.name("A90") == "Лихорадка денге [классическая лихорадка денге]"
    assert cat.name("i84.0") == "Внутренний тромбированный геморрой"  # withdrawn with all of I84
    assert cat.name("J06.9") == "Острая инфекция верхних дыхательных путей неуточненная"


def test_an_unknown_code_is_named_as_typed_and_marked(cat: Mkb10Catalog) -> None:
    assert cat.lookup("Z99.99") is None
    assert cat.name("Z99.99") == "Z99.99 (нет в справочнике)"
    assert cat.name(" Q ") == "Q (нет в справочнике)"


def test_selectable_means_the_most_detailed_code_in_use(cat: Mkb10Catalog) -> None:
    def selectable(code: str) -> bool:
        entry = cat.lookup(code)
        assert entry is not None, code
        return entry.selectable

    assert not selectable("X")  # a class
    assert not selectable("J00-J06")  # a block
    assert not selectable("C00-C14")  # a block inside a block
    assert not selectable("J06")  # has J06.0 … J06.9
    assert selectable("J06.9")
    assert selectable("J00")  # a rubric without sub-rubrics
    assert not selectable("S02.0")  # closed/open: S02.00, S02.01
    assert selectable("S02.00")
    assert selectable("M45")  # every sub-rubric of M45 is withdrawn


def test_asterisk_is_inherited_where_the_data_forgot_it(cat: Mkb10Catalog) -> None:
    for code in ("G94.3", "I98.3"):  # added 07.10.2020 without ADDL_CODE=2
        entry = cat.lookup(code)
        assert entry is not None, code
        assert entry.asterisk, code


# --- search ----------------------------------------------------------------------------------
def test_search_offers_only_codes_a_doctor_may_pick(cat: Mkb10Catalog) -> None:
    for q in ("j", "о", "остр", "I84", "A90", "M45", "S02", "J06", "геморрой", "COVID"):
        for e in cat.search(q, limit=500):
            assert e.actual, (q, e.code)
            assert e.selectable, (q, e.code)
    assert "M45" in codes(cat.search("M45"))
    assert not [c for c in codes(cat.search("I84")) if c.startswith("I84")]


def test_an_exact_code_comes_first_then_longer_codes(cat: Mkb10Catalog) -> None:
    assert codes(cat.search("J06.9")) == ["J06.9"]
    assert codes(cat.search("j069")) == ["J06.9"]
    assert codes(cat.search("e11.9")) == ["E11.9"]
    assert codes(cat.search("E11")) == [f"E11.{d}" for d in range(10)]
    assert codes(cat.search("G01"))[0] == "G01"  # then A17.0 «Туберкулезный менингит (G01*)»
    found = codes(cat.search("J0", limit=500))
    by_code = [c for c in found if c.startswith("J0")]
    assert by_code[:2] == ["J00", "J09"]  # three-character rubrics before sub-rubrics
    assert found[: len(by_code)] == by_code == sorted(by_code, key=lambda c: (len(c), c))
    assert len(found) > len(by_code)  # then names that mention a J0… code


def test_a_code_in_the_russian_layout_offers_both_readings(cat: Mkb10Catalog) -> None:
    assert codes(cat.search("о06ю9")) == ["J06.9", "O06.9"]  # by key, then by shape
    assert codes(cat.search("Е11.9")) == ["E11.9", "T11.9"]  # by shape, then by key
    assert codes(cat.search("о", limit=3)) == ["J00", "J09", "J13"]


def test_name_words_are_prefixes_in_any_order(cat: Mkb10Catalog) -> None:
    found = cat.search("бронхит хрон")
    assert codes(found) == ["J40", "J41.0", "J41.1", "J41.8", "J42"]
    assert "J20.9" in codes(cat.search("острый бронх"))
    assert codes(cat.search("ОСТРЫЙ БРОНХ")) == codes(cat.search("острый бронх"))
    assert cat.search("ыйбронх") == []


def test_names_starting_with_the_query_come_before_other_matches(cat: Mkb10Catalog) -> None:
    found = cat.search("бронх", limit=500)
    starts = [e for e in found if e.name.lower().startswith("бронх")]
    assert found[: len(starts)] == starts
    assert codes(found[:5]) == ["J18.0", "J40", "J47", "J68.0", "P27.1"]
    rest = codes(found[len(starts) :])
    assert rest
    assert rest[0] == "A15.5"


def test_yo_and_ye_are_the_same_letter(cat: Mkb10Catalog) -> None:
    assert "Q35.1" in codes(cat.search("нёба твёрд"))
    assert codes(cat.search("неба тверд")) == codes(cat.search("нёба твёрд"))


def test_russian_typed_in_the_latin_layout_is_understood(cat: Mkb10Catalog) -> None:
    assert codes(cat.search("jcnhsq ,hjy")) == codes(cat.search("острый бронх"))
    assert "U07.1" in codes(cat.search("covid"))  # a Latin word of a name is still itself


def test_a_sub_rubric_is_found_by_its_rubric_name_after_direct_matches(
    cat: Mkb10Catalog,
) -> None:
    # E11 is «Сахарный диабет 2 типа», E11.9 «Инсулиннезависимый сахарный диабет без осложнений».
    found = codes(cat.search("сахарный диабет 2"))
    assert found[0] == "O24.1"  # «Существовавший ранее сахарный диабет 2 типа»
    assert found[1:] == [f"E11.{d}" for d in range(10)]


def test_limit_is_respected(cat: Mkb10Catalog) -> None:
    assert len(cat.search("j")) == 50
    assert len(cat.search("остр", limit=7)) == 7
    assert cat.search("остр", limit=0) == []
    assert cat.search("остр", limit=-1) == []


@pytest.mark.parametrize(
    "query", ["j", "о", "остр", "острый бронх", "бронхит хрон", "E11", "e11.9", "a" * 200]
)
def test_a_keystroke_searches_within_30_ms(cat: Mkb10Catalog, query: str) -> None:
    best = min(_timed(cat, query) for _ in range(3))
    assert best < 0.030, f"{query!r}: {best * 1000:.1f} ms"


def _timed(cat: Mkb10Catalog, query: str) -> float:
    t0 = time.perf_counter()
    cat.search(query)
    return time.perf_counter() - t0


# --- the rules for a new diagnosis -----------------------------------------------------------
def _rule(cat: Mkb10Catalog, code: str, *, main: bool = True) -> str:
    with pytest.raises(ValidationError) as caught:
        cat.check_new_diagnosis(code, main=main)
    assert caught.value.field == FIELD == "Диагноз по МКБ-10"
    assert str(caught.value) == f"{FIELD}: {caught.value.rule}"
    return caught.value.rule


def test_a_good_code_passes_and_comes_back_normalised(cat: Mkb10Catalog) -> None:
    assert cat.check_new_diagnosis("о06ю9", main=True).code == "J06.9"
    assert cat.check_new_diagnosis("M45", main=True).code == "M45"
    assert cat.check_new_diagnosis("A17.0", main=True).dagger  # a dagger code may lead


def test_unknown_code(cat: Mkb10Catalog) -> None:
    assert _rule(cat, "Z99.99") == "нет кода «Z99.99» в справочнике (версия 2.27)"
    assert _rule(cat, "  ") == "укажите код"


def test_withdrawn_code(cat: Mkb10Catalog) -> None:
    assert _rule(cat, "A90") == (
        "код A90 исключён из справочника с 07.10.2020, выберите действующий код"
    )
    assert _rule(cat, "M45.0").startswith("код M45.0 исключён из справочника")


def test_class_and_block(cat: Mkb10Catalog) -> None:
    assert _rule(cat, "X") == "X — это класс, выберите рубрику внутри него"
    assert _rule(cat, "J00-J06") == "J00-J06 — это блок, выберите рубрику внутри него"


def test_a_rubric_with_sub_rubrics_must_be_detailed(cat: Mkb10Catalog) -> None:
    assert _rule(cat, "J06") == "уточните до подрубрики: J06.0–J06.9"
    assert _rule(cat, "S02.0") == "уточните до подрубрики: S02.00–S02.01"
    assert _rule(cat, "E11", main=False) == "уточните до подрубрики: E11.0–E11.9"


def test_an_asterisk_code_is_never_the_main_diagnosis(cat: Mkb10Catalog) -> None:
    rule = "код со звёздочкой (*) — дополнительный, не может быть основным диагнозом"
    assert _rule(cat, "G01") == rule
    assert _rule(cat, "G94.3") == rule
    assert cat.check_new_diagnosis("G01", main=False).asterisk


# --- hostile input ---------------------------------------------------------------------------
HOSTILE = [
    "",
    " ",
    "\x00",
    "\x00J06.9",
    "\n\t\r",
    "\x1b[2J",
    "\u202e9.60J",
    "a" * 10_000,
    "о" * 10_000,
    "J" + "0" * 10_000,
    "'; DROP TABLE mkb10; --",
    "J06.9' OR '1'='1",
    "%",
    "_",
    "*",
    "\\",
    "[]()",
    "💊",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_gives_empty_answers_not_exceptions(cat: Mkb10Catalog, text: str) -> None:
    t0 = time.perf_counter()
    assert cat.search(text) == []
    assert cat.lookup(text) is None
    assert cat.name(text).endswith("(нет в справочнике)")
    assert len(cat.name(text)) < 60
    with pytest.raises(ValidationError):
        cat.check_new_diagnosis(text, main=True)
    assert time.perf_counter() - t0 < 0.5


def test_a_catalog_reads_any_version_of_the_file(tmp_path: Path) -> None:
    csv_file = tmp_path / "mkb.csv"
    csv_file.write_text(
        "ID;REC_CODE;MKB_CODE;MKB_NAME;ID_PARENT;ADDL_CODE;ACTUAL;DATE\n"
        '1;01;"X";"БОЛЕЗНИ ОРГАНОВ ДЫХАНИЯ";;;1;\n'
        '2;0101;"J00-J06";"ОСТРЫЕ ИНФЕКЦИИ";1;;1;\n'
        '3;"0101J00";"J00";"Острый назофарингит";2;;0;"01.01.2030"\n'
        '4;"0101J00";"J00";"Острый назофарингит [насморк]";2;;1;"01.01.2030"\n'
        '5;"0101J01";"J01";"Старое";2;;0;"01.01.2030"',
        encoding="utf-8",
    )
    small = Mkb10Catalog(csv_file)
    assert len(small) == 5
    assert small.name("J00") == "Острый назофарингит [насморк]"  # a re-issued code: the live row
    assert codes(small.search("наз")) == ["J00"]
    assert small.search("старое") == []
