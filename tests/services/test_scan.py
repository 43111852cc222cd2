"""What a scanner typed: the policy number is found, or nobody is named."""

from __future__ import annotations

from services.scan import policy_from_scan
from services.validation import make_policy

A = make_policy(123_456)
B = make_policy(654_321)


def test_the_number_alone_and_inside_a_qr_payload() -> None:
    assert policy_from_scan(A) == A
    assert policy_from_scan(f"ENP={A}|FAM=ИВАНОВ|DR=01.02.1980") == A
    assert policy_from_scan(f'{{"enp": "{A}", "snils": "11223344595"}}') == A
    assert policy_from_scan(f"https://oms.example/?p={A}&x=1") == A
    assert policy_from_scan(f"{A} {A}") == A  # the same number twice is one number


def test_nothing_or_an_ambiguous_payload_names_nobody() -> None:
    wrong = A[:15] + str((int(A[15]) + 1) % 10)
    assert policy_from_scan(wrong) is None  # control digit
    assert policy_from_scan(A + "7") is None  # seventeen digits are not a policy
    assert policy_from_scan(f"{A}|{B}") is None  # two people: never guess
    assert policy_from_scan("") is None
    assert policy_from_scan("ЗДРАВСТВУЙТЕ") is None
    assert policy_from_scan("x" * 1_000_000 + A) is None  # past the longest QR payload
