"""The normalised key the patient search runs on.

Registrars type «иванов», «ИВАНОВ», «Иванов А» or «Фёдоров»/«Федоров» interchangeably, so the
key is upper case with Ё folded to Е and single spaces; prefix search then becomes a range
scan ``key >= p AND key < next(p)`` that one b-tree index serves on SQLite and PostgreSQL alike
(no LIKE, whose case rules and index use differ between the two).
"""

from __future__ import annotations

import re

__all__ = ["make_search_key", "prefix_upper_bound"]

_SPACES = re.compile(r"\s+")


def make_search_key(*parts: str) -> str:
    """«Фёдорова», «Анна», «Ильинична» → «ФЕДОРОВА АННА ИЛЬИНИЧНА»."""
    text = " ".join(p for p in parts if p)
    return _SPACES.sub(" ", text).strip().upper().replace("Ё", "Е")


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    if not prefix:
        raise ValueError("empty prefix")
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
