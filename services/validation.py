"""Validation shared by forms and services: СНИЛС, ЕНП (OMS policy), phone, ФИО, dates.

Every function returns the normalised value or raises :class:`ValidationError` naming the
field and the rule in Russian, so the message can go straight under the field.  The same
functions run in the form (as the user types) and in the service (the form is not the only
client), so the two can never disagree about what is valid.

Input is treated as hostile: only ASCII digits count as digits (``int()`` and ``str.isdigit``
happily accept Arabic-Indic or full-width digits, which no registry would match), and
over-long input is rejected before any real work is done.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from services.errors import ValidationError

__all__ = [
    "PHONE_RULE",
    "enp_checksum",
    "format_phone",
    "format_snils",
    "make_policy",
    "make_snils",
    "normalize_name_part",
    "normalize_phone",
    "normalize_policy",
    "normalize_snils",
    "parse_date_ru",
    "snils_checksum",
    "validate_birth_date",
]

REQUIRED: Final = "обязательное поле"
MAX_NAME: Final = 60
MIN_BIRTH: Final = dt.date(1900, 1, 1)
#: Numbers up to 001-001-998 were issued before the control number existed and are not checked.
SNILS_CHECKED_FROM: Final = 1_001_998

# A number is copied from paper or pasted from Word: spaces (also NBSP) and any dash go.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")
_MAX_RAW = 64  # generous for 16 digits with separators; anything longer is not a number
_ASCII_DIGITS = re.compile(r"[0-9]+")


def _digits(value: str, *, field: str, key: str, length: int) -> str:
    """Strip separators and demand exactly ``length`` ASCII digits."""
    raw = value.strip()
    if not raw:
        raise ValidationError(field, REQUIRED, key=key)
    digits = _SEPARATORS.sub("", raw) if len(raw) <= _MAX_RAW else ""
    if len(digits) != length or not _ASCII_DIGITS.fullmatch(digits):
        raise ValidationError(field, f"должен содержать {length} цифр", key=key)
    return digits


def _require_body(digits: str, length: int) -> None:
    # The checksum helpers are called by code, not users: a bad body is a bug, not a message.
    if len(digits) != length or not _ASCII_DIGITS.fullmatch(digits):
        raise ValueError(f"expected {length} ASCII digits, got {digits!r}")


# --- СНИЛС -------------------------------------------------------------------------------------
def snils_checksum(digits9: str) -> str:
    """Return the two-digit control number of a СНИЛС.

    ПФР rule (as quoted from ПФР's «Правила проверки» in Business::PFR on metacpan): digits
    weighted 9..1 from the left are summed; a sum below 100 is the control number, 100 and
    101 give "00", a larger sum is taken mod 101 and a remainder of 100 again gives "00".
    That is exactly "sum mod 101, with 100 written as 00", which is what is computed here.

    Returns:
        The control number for the first nine digits, always two characters.

    Raises:
        ValueError: ``digits9`` is not nine ASCII digits (a programming error).
    """
    _require_body(digits9, 9)
    remainder = sum(int(d) * w for d, w in zip(digits9, range(9, 0, -1), strict=True)) % 101
    return "00" if remainder == 100 else f"{remainder:02d}"


def normalize_snils(value: str) -> str:
    """Normalise «112-233-445 95» or «11223344595» to eleven digits.

    The control number is checked only above 001-001-998: older numbers predate it, and
    rejecting them would lock real patients out of registration.

    Raises:
        ValidationError: Empty, not eleven digits, or a wrong control number.
    """
    digits = _digits(value, field="СНИЛС", key="snils", length=11)
    if int(digits[:9]) > SNILS_CHECKED_FROM and snils_checksum(digits[:9]) != digits[9:]:
        raise ValidationError("СНИЛС", "неверная контрольная сумма", key="snils")
    return digits


def format_snils(digits: str) -> str:
    """Show eleven stored digits the way the СНИЛС card prints them: «112-233-445 95»."""
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


# --- ЕНП / полис ОМС ---------------------------------------------------------------------------
def enp_checksum(digits15: str) -> str:
    """Return the control (16th) digit of an единый номер полиса ОМС.

    The ФФОМС method: the digits at odd positions counted from the right (control digit
    excluded) form a number that is doubled; the digits at even positions form a number
    written to the left of the product; the digits of the result are summed, and the control
    digit is the distance from that sum up to the next multiple of ten.  Implemented as
    ``EnpChecker.CalculateCheckSum`` in the regional register rt.srz
    (github.com/resilencelyn/rt.srz, rt.srz.model/algorithms/EnpChecker.cs), whose tests
    accept 7856130840000017 and reject 7856130840000018; both are in our tests too.  Doubling
    a whole number carries at most one into each digit, so the digit sum equals Luhn's and
    every single-digit typo is caught.

    Raises:
        ValueError: ``digits15`` is not fifteen ASCII digits (a programming error).
    """
    _require_body(digits15, 15)
    from_right = digits15[::-1]
    odd = from_right[0::2][::-1]
    even = from_right[1::2][::-1]
    total = sum(int(c) for c in even + str(int(odd) * 2))
    return str(-total % 10)


def normalize_policy(value: str) -> str:
    """Normalise «7856 1308 4000 0017» to sixteen digits with the control digit checked.

    Raises:
        ValidationError: Empty, not sixteen digits, or a wrong control digit.
    """
    digits = _digits(value, field="Полис ОМС", key="policy", length=16)
    if enp_checksum(digits[:15]) != digits[15]:
        raise ValidationError("Полис ОМС", "неверная контрольная сумма", key="policy")
    return digits


# --- phone -------------------------------------------------------------------------------------
# Some ranges are only known to be "fixed line or mobile"; refusing them would refuse patients.
_MOBILE: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# phonenumbers turns letters into keypad digits ("+7 916 ABC-DE-FG" is "valid") and drops
# extensions; a patient's SMS number has neither, so only these characters get through.
_PHONE_CHARS = re.compile(r"[0-9+()\-. ]{1,30}")


# The two shapes a Russian mobile is written in, unbreakable, so the message under the field
# wraps between them and never inside a number.
_UNBREAKABLE = str.maketrans({" ": "\u00a0", "-": "\u2011"})
PHONE_RULE = (
    "номер из 11 цифр: "
    + "+7 9XX XXX-XX-XX".translate(_UNBREAKABLE)
    + " или "
    + "8 9XX XXX-XX-XX".translate(_UNBREAKABLE)
)


def normalize_phone(value: str) -> str:
    """Normalise a Russian mobile number to E.164 «+79161234567».

    The SMS gateway needs exactly E.164, and «8 916…», «+7 (916)…» and «916…» must all land
    on the same stored value or duplicates slip past the uniqueness check.

    Raises:
        ValidationError: Empty, not a phone number, or not a Russian mobile number.
    """
    raw = " ".join(value.split())
    if not raw:
        raise ValidationError("Телефон", REQUIRED, key="phone")
    invalid = ValidationError("Телефон", PHONE_RULE, key="phone")
    if not _PHONE_CHARS.fullmatch(raw):
        raise invalid
    try:
        num = phonenumbers.parse(raw, "RU")
    except phonenumbers.NumberParseException:
        raise invalid from None
    if not phonenumbers.is_valid_number(num):
        raise invalid
    if (
        phonenumbers.region_code_for_number(num) != "RU"
        or phonenumbers.number_type(num) not in _MOBILE
    ):
        raise ValidationError("Телефон", "должен быть мобильным номером России", key="phone")
    return phonenumbers.format_number(num, PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """Show a stored «+79161234567» as «+7 916 123-45-67»; anything else is shown as stored."""
    if len(e164) == 12 and e164.startswith("+7") and _ASCII_DIGITS.fullmatch(e164[1:]):
        d = e164[2:]
        return f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}"
    return e164


# --- ФИО ---------------------------------------------------------------------------------------
_CYR = "А-Яа-яЁё"
_NAME_CHARS = re.compile(f"[{_CYR} -]*")
_NAME_SHAPE = re.compile(f"[{_CYR}]+(?:[- ][{_CYR}]+)*")


def _capitalise(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))


def normalize_name_part(value: str, *, field: str, key: str, required: bool = True) -> str:
    """Normalise a surname, name or patronymic: «  анна-мария » → «Анна-Мария».

    Documents, the ЕРЗ and search keys all use Cyrillic ФИО, so a Latin lookalike letter
    («A» for «А») would make the patient unfindable; it is refused, not silently kept.
    Spaces are collapsed and each word and hyphen part capitalised, so «ОГЛЫ» and «оглы»
    store the same «Оглы».

    Args:
        value: What the user typed.
        field: The label shown to the user («Фамилия»).
        key: The form field name.
        required: False for the patronymic, which many patients do not have.

    Returns:
        The normalised part, or "" for an empty optional one.

    Raises:
        ValidationError: Empty (if required), too long, foreign characters, or a hyphen or
            space not between letters.
    """
    text = " ".join(value.split())
    if not text:
        if required:
            raise ValidationError(field, REQUIRED, key=key)
        return ""
    if len(text) > MAX_NAME:
        raise ValidationError(field, f"не длиннее {MAX_NAME} символов", key=key)
    if not _NAME_CHARS.fullmatch(text):
        raise ValidationError(field, "допустимы только русские буквы, дефис и пробел", key=key)
    if not _NAME_SHAPE.fullmatch(text):
        raise ValidationError(field, "дефис и пробел только между буквами", key=key)
    return " ".join(_capitalise(w) for w in text.split(" "))


# --- dates -------------------------------------------------------------------------------------
def validate_birth_date(value: dt.date, *, today: dt.date | None = None) -> dt.date:
    """Reject impossible birth dates: in the future, or before 1900 (a typo in the year).

    ``today`` is injected by tests and by services that already fixed "now".

    Raises:
        ValidationError: The date is in the future or before 01.01.1900.
    """
    if isinstance(value, dt.datetime):  # comparing a datetime with a date raises TypeError
        value = value.date()
    today = today or dt.date.today()
    if value > today:
        raise ValidationError("Дата рождения", "не может быть в будущем", key="birth_date")
    if value < MIN_BIRTH:
        raise ValidationError("Дата рождения", "не ранее 01.01.1900", key="birth_date")
    return value


_DATE_RU = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def parse_date_ru(value: str, *, field: str, key: str) -> dt.date:
    """Parse «дд.мм.гггг», the only date format Russian users and paper documents use.

    A well-formed date that does not exist (31.02) gets its own message, because "wrong
    format" would send the user hunting for a formatting mistake that is not there.

    Raises:
        ValidationError: Not «дд.мм.гггг», or no such day in the calendar.
    """
    m = _DATE_RU.fullmatch(value.strip())
    if not m:
        raise ValidationError(field, "ожидается дата в формате ДД.ММ.ГГГГ", key=key)
    d, mo, y = (int(g) for g in m.groups())
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise ValidationError(field, f"нет такой даты: {m.group(0)}", key=key) from None


# --- test and demo data ------------------------------------------------------------------------
def make_snils(n: int) -> str:
    """Build a valid СНИЛС whose first nine digits are ``n`` (demo data and tests).

    Only the checked range is allowed, so generated data always exercises the checksum.

    Raises:
        ValueError: ``n`` is not in 1_001_999..999_999_999.
    """
    if not SNILS_CHECKED_FROM < n <= 999_999_999:
        raise ValueError(f"СНИЛС body out of the checked range: {n}")
    body = f"{n:09d}"
    return body + snils_checksum(body)


def make_policy(n: int) -> str:
    """Build a valid ЕНП whose first fifteen digits are ``n`` zero-padded (demo data, tests).

    Raises:
        ValueError: ``n`` is negative or has more than fifteen digits.
    """
    if not 0 <= n < 10**15:
        raise ValueError(f"policy body out of range: {n}")
    body = f"{n:015d}"
    return body + enp_checksum(body)
