"""services.validation: known good and bad values, hostile input and the checksum properties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from services.errors import ValidationError
from services.validation import (
    PHONE_RULE,
    enp_checksum,
    format_phone,
    format_snils,
    make_policy,
    make_snils,
    normalize_name_part,
    normalize_phone,
    normalize_policy,
    normalize_snils,
    parse_date_ru,
    snils_checksum,
    validate_birth_date,
)

HOSTILE = [
    "x" * 10_000,
    "1" * 10_000,
    "😀",
    "\x00" * 11,
    "1122334459\x00",
    "DROP TABLE patient; --",
    "١١٢٢٣٣٤٤٥٩٥",  # Arabic-Indic digits: int() accepts them, registries do not
    "１１２２３３４４５９５",  # full-width digits
]


def _rule(fn: Callable[[], object]) -> str:
    with pytest.raises(ValidationError) as info:
        fn()
    return info.value.rule


def _error(fn: Callable[[], object]) -> ValidationError | None:
    """The ValidationError ``fn`` raised, or None; for properties where both are legal."""
    try:
        fn()
    except ValidationError as exc:
        return exc
    return None


def _weighted(body: str) -> int:
    """The ПФР weighted sum, written independently of the module."""
    return sum(int(d) * (9 - i) for i, d in enumerate(body))


def _luhn_digit(body: str) -> str:
    """Textbook Luhn check digit: a different formulation than the ФФОМС one."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


# --- СНИЛС -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "weighted", "control"),
    [
        ("112233445", 95, "95"),  # ПФР's own example
        ("001019899", 99, "99"),
        ("001019989", 100, "00"),
        ("001019998", 101, "00"),
        ("001019999", 102, "01"),
        ("035967393", 201, "00"),  # 201 mod 101 = 100 → 00 (rt.srz test vector 03596739300)
        ("002999998", 202, "00"),
        ("999999999", 405, "01"),
    ],
)
def test_snils_checksum_known(body: str, weighted: int, control: str) -> None:
    assert _weighted(body) == weighted
    assert snils_checksum(body) == control


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩"])
def test_snils_checksum_rejects_bad_body(bad: str) -> None:
    with pytest.raises(ValueError, match="9 ASCII digits"):
        snils_checksum(bad)


@pytest.mark.parametrize(
    "raw",
    [
        "112-233-445 95",
        "11223344595",
        " 112 233 445 95 ",
        "112-233-445-95",
        "112\u00a0233\u00a0445\u00a095",
    ],
)
def test_normalize_snils_valid(raw: str) -> None:
    assert normalize_snils(raw) == "11223344595"


@pytest.mark.parametrize(
    "raw",
    ["035-967-393 00", "001-001-998 00", "001-001-998 42", "000-000-001 77", "112-233-458 00"],
)
def test_normalize_snils_valid_edge_cases(raw: str) -> None:
    # 001-001-998 and below predate the control number: any control is accepted.
    assert normalize_snils(raw) == raw.replace("-", "").replace(" ", "")


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "обязательное поле"),
        ("   ", "обязательное поле"),
        ("1122334459", "должен содержать 11 цифр"),
        ("112233445955", "должен содержать 11 цифр"),
        ("1122334459a", "должен содержать 11 цифр"),
        ("112.233.445 95", "должен содержать 11 цифр"),
        ("112-233-445 96", "неверная контрольная сумма"),
        ("035-967-393 01", "неверная контрольная сумма"),  # rt.srz's bad vector
        ("001-001-999 00", "неверная контрольная сумма"),  # first checked number; its control is 65
        *((h, "должен содержать 11 цифр") for h in HOSTILE),
    ],
)
def test_normalize_snils_invalid(raw: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_snils(raw)
    assert (info.value.field, info.value.rule, info.value.key) == ("СНИЛС", rule, "snils")
    assert str(info.value) == f"СНИЛС: {rule}"


def test_format_snils() -> None:
    assert format_snils("11223344595") == "112-233-445 95"


def test_snils_single_digit_collision_exists() -> None:
    """Weighted sums 100 and 101 both give 00, so ±1 in the last body digit can go unnoticed."""
    assert _weighted("112233458") == 100
    assert _weighted("112233459") == 101
    assert normalize_snils("11223345800") == "11223345800"
    assert normalize_snils("11223345900") == "11223345900"


@given(st.integers(1_001_999, 999_999_999))
def test_make_snils_always_valid(n: int) -> None:
    snils = make_snils(n)
    assert snils[:9] == f"{n:09d}"
    assert normalize_snils(snils) == snils
    assert normalize_snils(format_snils(snils)) == snils
    assert format_snils(snils)[:11] == f"{snils[:3]}-{snils[3:6]}-{snils[6:9]}"


@pytest.mark.parametrize("n", [-1, 0, 1_001_998, 1_000_000_000])
def test_make_snils_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="out of the checked range"):
        make_snils(n)


@given(
    n=st.integers(1_001_999, 999_999_999),
    pos=st.integers(0, 10),
    new=st.sampled_from("0123456789"),
)
@example(n=112_233_458, pos=8, new="9")  # sums 100 → 101: both "00", still valid
@example(n=112_233_459, pos=8, new="8")
@example(n=1_001_999, pos=6, new="0")  # lands in the unchecked range
@settings(max_examples=500)
def test_snils_single_digit_change(n: int, pos: int, new: str) -> None:
    """A one-digit change is caught unless it is one of the two exactly known blind spots.

    The change alters the weighted sum by w·δ with 1 ≤ |w·δ| ≤ 81 < 101, so the sum mod 101
    always changes; the control number still matches only when the remainders are 0 and 100
    (both written "00"), which needs w·δ = ±1: the ninth digit changed by one.  The other
    blind spot is a body that drops to 001-001-998 or below, where nothing is checked.
    """
    snils = make_snils(n)
    if snils[pos] == new:
        return
    changed = snils[:pos] + new + snils[pos + 1 :]
    old_sum, new_sum = _weighted(snils[:9]), _weighted(changed[:9])
    expected_ok = int(changed[:9]) <= 1_001_998 or (
        pos == 8
        and abs(int(new) - int(snils[8])) == 1
        and {old_sum % 101, new_sum % 101} == {0, 100}
    )
    error = _error(lambda: normalize_snils(changed))
    assert (error is None) == expected_ok
    if error is not None:
        assert error.rule == "неверная контрольная сумма"


# --- Полис ОМС (ЕНП) ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "control"),
    [
        ("785613084000001", "7"),  # rt.srz AlgoritmTest.CheckEnp: 7856130840000017
        ("785651084400044", "6"),  # rt.srz AlgoritmTest.CheckEnpFaset: 7856510844000446
        ("000000000000000", "0"),
        ("000000000000001", "8"),
        ("000000000000005", "9"),  # 5·2 = 10 → digit sum 1, not 10
    ],
)
def test_enp_checksum_known(body: str, control: str) -> None:
    assert enp_checksum(body) == control


@pytest.mark.parametrize("bad", ["", "78561308400000", "7856130840000017", "78561308400000x"])
def test_enp_checksum_rejects_bad_body(bad: str) -> None:
    with pytest.raises(ValueError, match="15 ASCII digits"):
        enp_checksum(bad)


@given(st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_enp_checksum_equals_luhn(body: str) -> None:
    assert enp_checksum(body) == _luhn_digit(body)


@pytest.mark.parametrize(
    "raw", ["7856130840000017", "7856 1308 4000 0017", " 7856-1308-4000-0017 ", "7856510844000446"]
)
def test_normalize_policy_valid(raw: str) -> None:
    assert normalize_policy(raw) == raw.strip().replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "обязательное поле"),
        ("\t\n", "обязательное поле"),
        ("785613084000001", "должен содержать 16 цифр"),
        ("78561308400000170", "должен содержать 16 цифр"),
        ("785613084000001O", "должен содержать 16 цифр"),  # letter O
        ("7856130840000018", "неверная контрольная сумма"),  # rt.srz AlgoritmTest.CheckBadEnp
        ("7856130840000071", "неверная контрольная сумма"),  # transposed last two digits
        *((h, "должен содержать 16 цифр") for h in HOSTILE),
    ],
)
def test_normalize_policy_invalid(raw: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_policy(raw)
    assert (info.value.field, info.value.rule, info.value.key) == ("Полис ОМС", rule, "policy")


@given(st.integers(0, 10**15 - 1))
def test_make_policy_always_valid(n: int) -> None:
    policy = make_policy(n)
    assert len(policy) == 16
    assert policy[:15] == f"{n:015d}"
    assert normalize_policy(policy) == policy


@pytest.mark.parametrize("n", [-1, 10**15])
def test_make_policy_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        make_policy(n)


@given(
    n=st.integers(0, 10**15 - 1),
    pos=st.integers(0, 15),
    new=st.sampled_from("0123456789"),
)
@settings(max_examples=500)
def test_policy_any_single_digit_change_is_caught(n: int, pos: int, new: str) -> None:
    policy = make_policy(n)
    if policy[pos] == new:
        return
    changed = policy[:pos] + new + policy[pos + 1 :]
    with pytest.raises(ValidationError, match="неверная контрольная сумма"):
        normalize_policy(changed)


# --- phone -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "8 916 123-45-67",
        "+7 (916) 123 45 67",
        "9161234567",
        "89161234567",
        "+79161234567",
        "8 (916) 123.45.67",
        " +7\u00a0916\u00a0123\u00a045\u00a067 ",
    ],
)
def test_normalize_phone_valid(raw: str) -> None:
    assert normalize_phone(raw) == "+79161234567"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "обязательное поле"),
        ("  ", "обязательное поле"),
        ("12345", PHONE_RULE),
        ("+7 916 1234567 8", PHONE_RULE),
        (
            "+7 916 ABC-DE-FG",
            PHONE_RULE,
        ),  # phonenumbers would read keypad letters
        ("8 916 123-45-67 доб. 5", PHONE_RULE),
        ("+7 916 123 45 67 ext 5", PHONE_RULE),
        ("+", PHONE_RULE),
        ("()", PHONE_RULE),
        *((h, PHONE_RULE) for h in HOSTILE),
        ("+7 495 123-45-67", "должен быть мобильным номером России"),  # Moscow landline
        ("+7 800 555-35-35", "должен быть мобильным номером России"),  # toll-free
        ("+7 701 123 45 67", "должен быть мобильным номером России"),  # Kazakhstan, also +7
        ("+1 650 253 0000", "должен быть мобильным номером России"),
    ],
)
def test_normalize_phone_invalid(raw: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_phone(raw)
    assert (info.value.field, info.value.rule, info.value.key) == ("Телефон", rule, "phone")


def test_normalize_phone_accepts_fixed_line_or_mobile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        phonenumbers, "number_type", lambda _num: PhoneNumberType.FIXED_LINE_OR_MOBILE
    )
    assert normalize_phone("8 916 123-45-67") == "+79161234567"


def test_format_phone() -> None:
    assert format_phone("+79161234567") == "+7 916 123-45-67"
    assert format_phone("+16502530000") == "+16502530000"
    assert format_phone("") == ""


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
@settings(deadline=None)
def test_phone_round_trips(rest: str) -> None:
    error = _error(lambda: normalize_phone("9" + rest))
    if error is not None:
        assert error.rule in (
            PHONE_RULE,
            "должен быть мобильным номером России",
        )
        return
    e164 = normalize_phone("9" + rest)
    assert e164 == "+79" + rest
    assert normalize_phone(e164) == e164
    assert normalize_phone(format_phone(e164)) == e164
    assert normalize_phone("8" + "9" + rest) == e164


# --- ФИО ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("иванов", "Иванов"),
        ("  анна-мария ", "Анна-Мария"),
        ("САЛТЫКОВ-ЩЕДРИН", "Салтыков-Щедрин"),
        ("ёлкина", "Ёлкина"),
        ("мамедов   оглы", "Мамедов Оглы"),
        ("Ли\tСин", "Ли Син"),
        ("я", "Я"),
        ("а" * 60, "А" + "а" * 59),
    ],
)
def test_normalize_name_part_valid(raw: str, expected: str) -> None:
    assert normalize_name_part(raw, field="Фамилия", key="surname") == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "обязательное поле"),
        (" \t ", "обязательное поле"),
        ("а" * 61, "не длиннее 60 символов"),
        ("а" * 10_000, "не длиннее 60 символов"),
        ("x" * 10_000, "не длиннее 60 символов"),
        ("John", "допустимы только русские буквы, дефис и пробел"),
        ("Aнна", "допустимы только русские буквы, дефис и пробел"),  # Latin A
        ("Иван0в", "допустимы только русские буквы, дефис и пробел"),
        ("Д'Артаньян", "допустимы только русские буквы, дефис и пробел"),
        ("Анна😀", "допустимы только русские буквы, дефис и пробел"),
        ("Ива\x00нов", "допустимы только русские буквы, дефис и пробел"),
        ("Олесь Гончар.", "допустимы только русские буквы, дефис и пробел"),
        ("Іван", "допустимы только русские буквы, дефис и пробел"),  # Ukrainian І
        ("-Анна", "дефис и пробел только между буквами"),
        ("Анна-", "дефис и пробел только между буквами"),
        ("Анна--Мария", "дефис и пробел только между буквами"),
        ("Анна - Мария", "дефис и пробел только между буквами"),
        ("-", "дефис и пробел только между буквами"),
    ],
)
def test_normalize_name_part_invalid(raw: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_name_part(raw, field="Имя", key="name")
    assert (info.value.field, info.value.rule, info.value.key) == ("Имя", rule, "name")


def test_optional_name_part() -> None:
    assert normalize_name_part("", field="Отчество", key="patronymic", required=False) == ""
    assert normalize_name_part("  ", field="Отчество", key="patronymic", required=False) == ""
    assert (
        normalize_name_part("петрович", field="Отчество", key="patronymic", required=False)
        == "Петрович"
    )
    assert _rule(
        lambda: normalize_name_part("Petrovich", field="Отчество", key="p", required=False)
    ) == ("допустимы только русские буквы, дефис и пробел")


_NAME_ALPHABET = st.sampled_from("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБЯЁ- \t'aZ0.")


@given(st.text(_NAME_ALPHABET, max_size=70))
def test_normalized_names_are_idempotent(raw: str) -> None:
    try:
        once = normalize_name_part(raw, field="Фамилия", key="surname", required=False)
    except ValidationError:
        return
    assert normalize_name_part(once, field="Фамилия", key="surname", required=False) == once
    assert normalize_name_part(raw.upper(), field="Ф", key="s", required=False) == once
    assert len(once) <= 60
    assert once == once.strip()
    assert "  " not in once


# --- dates -------------------------------------------------------------------------------------
TODAY = dt.date(2024, 6, 15)


@pytest.mark.parametrize("d", [TODAY, dt.date(1900, 1, 1), dt.date(1984, 3, 5)])
def test_validate_birth_date_valid(d: dt.date) -> None:
    assert validate_birth_date(d, today=TODAY) == d


@pytest.mark.parametrize(
    ("d", "rule"),
    [
        (TODAY + dt.timedelta(days=1), "не может быть в будущем"),
        (dt.date(1899, 12, 31), "не ранее 01.01.1900"),
        (dt.date(1, 1, 1), "не ранее 01.01.1900"),
    ],
)
def test_validate_birth_date_invalid(d: dt.date, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_birth_date(d, today=TODAY)
    assert (info.value.field, info.value.rule, info.value.key) == (
        "Дата рождения",
        rule,
        "birth_date",
    )


def test_validate_birth_date_defaults_to_real_today() -> None:
    assert _rule(lambda: validate_birth_date(dt.date.today() + dt.timedelta(days=1))) == (
        "не может быть в будущем"
    )
    assert validate_birth_date(dt.date.today()) == dt.date.today()


def test_validate_birth_date_accepts_datetime() -> None:
    assert validate_birth_date(dt.datetime(1984, 3, 5, 12, 0), today=TODAY) == dt.date(1984, 3, 5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05.03.1984", dt.date(1984, 3, 5)),
        ("5.3.1984", dt.date(1984, 3, 5)),
        (" 29.02.2024 ", dt.date(2024, 2, 29)),
    ],
)
def test_parse_date_ru_valid(raw: str, expected: dt.date) -> None:
    assert parse_date_ru(raw, field="Дата рождения", key="birth_date") == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "ожидается дата в формате ДД.ММ.ГГГГ"),
        ("1984-03-05", "ожидается дата в формате ДД.ММ.ГГГГ"),
        ("05/03/1984", "ожидается дата в формате ДД.ММ.ГГГГ"),
        ("05.03.84", "ожидается дата в формате ДД.ММ.ГГГГ"),
        ("05.03.1984 12:00", "ожидается дата в формате ДД.ММ.ГГГГ"),
        ("٠٥.٠٣.١٩٨٤", "ожидается дата в формате ДД.ММ.ГГГГ"),
        ("05.03.1984\x00", "ожидается дата в формате ДД.ММ.ГГГГ"),
        ("1" * 10_000, "ожидается дата в формате ДД.ММ.ГГГГ"),
        ("31.02.1990", "нет такой даты: 31.02.1990"),
        ("29.02.2023", "нет такой даты: 29.02.2023"),
        ("00.01.2000", "нет такой даты: 00.01.2000"),
        ("01.13.2000", "нет такой даты: 01.13.2000"),
        ("01.01.0000", "нет такой даты: 01.01.0000"),
    ],
)
def test_parse_date_ru_invalid(raw: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_date_ru(raw, field="Дата выдачи", key="issued")
    assert (info.value.field, info.value.rule, info.value.key) == ("Дата выдачи", rule, "issued")


@given(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
def test_parse_date_ru_round_trips(d: dt.date) -> None:
    assert parse_date_ru(f"{d.day:02d}.{d.month:02d}.{d.year:04d}", field="Д", key="d") == d


# --- every message names its field -------------------------------------------------------------
_NORMALISERS: list[tuple[str, str, Callable[[str], object]]] = [
    ("СНИЛС", "snils", normalize_snils),
    ("Полис ОМС", "policy", normalize_policy),
    ("Телефон", "phone", normalize_phone),
    (
        "Отчество",
        "patronymic",
        lambda v: normalize_name_part(v, field="Отчество", key="patronymic"),
    ),
    ("Дата смерти", "death", lambda v: parse_date_ru(v, field="Дата смерти", key="death")),
]


@given(st.text(max_size=80) | st.sampled_from(HOSTILE))
@settings(deadline=None)
def test_every_error_starts_with_field_label(raw: str) -> None:
    for label, key, fn in _NORMALISERS:
        error = _error(partial(fn, raw))
        if error is not None:
            assert str(error).startswith(f"{label}: ")
            assert error.key == key
            assert error.rule


@given(st.dates())
def test_birth_date_errors_start_with_field_label(d: dt.date) -> None:
    error = _error(lambda: validate_birth_date(d, today=TODAY))
    assert (error is None) == (dt.date(1900, 1, 1) <= d <= TODAY)
    if error is not None:
        assert str(error).startswith("Дата рождения: ")
