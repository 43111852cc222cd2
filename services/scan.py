"""What a barcode scanner typed: the patient's ЕНП (16-digit OMS policy number) in it.

A scanner reads the policy's barcode (the number itself) or a QR code whose text carries it
among other fields («…|ENP=7856130840000017|…», a URL, a JSON blob).  Any run of exactly
sixteen digits whose control digit is right is taken; a payload with none, or with two
different valid numbers, names no patient — guessing would open the wrong record.
"""

from __future__ import annotations

import re

from services.validation import enp_checksum

__all__ = ["MAX_PAYLOAD", "policy_from_scan"]

MAX_PAYLOAD = 4096  # a QR code holds at most ~4,300 characters
_RUN = re.compile(r"(?<!\d)\d{16}(?!\d)")


def policy_from_scan(payload: str) -> str | None:
    """The one valid ЕНП in the scanned text, or None."""
    found = {
        digits
        for digits in _RUN.findall(payload[:MAX_PAYLOAD])
        if enp_checksum(digits[:15]) == digits[15]
    }
    return found.pop() if len(found) == 1 else None
