"""Printing tests read the PDFs back with poppler, as a person (or the archive) would.

poppler-utils is a real peer here, never mocked: without it the tests fail with the command
that installs it (the README's test command does).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from printing.referral_057 import Address, Referral057

INSTALL = "apt-get install poppler-utils"


def poppler(tool: str, *args: str, data: bytes | None = None) -> bytes:
    """Run a poppler tool (``pdftotext``, ``pdffonts``, …) and return its stdout."""
    exe = shutil.which(tool)
    if exe is None:
        pytest.fail(f"{tool} is missing: {INSTALL}", pytrace=False)
    done = subprocess.run([exe, *args], input=data, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def pdf_text(pdf: bytes, *, layout: bool = False) -> str:
    """The text of ``pdf`` with whitespace runs (line breaks included) folded to one space."""
    out = poppler("pdftotext", *(["-layout"] if layout else []), "-", "-", data=pdf)
    return " ".join(out.decode().split())


@dataclass(frozen=True)
class Word:
    text: str
    x0: float  # points from the page's left edge
    y0: float  # points from the page's top edge
    x1: float
    y1: float
    page: int


_PAGE = re.compile(r"<page [^>]*>(.*?)</page>", re.S)
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def pdf_words(pdf: bytes) -> list[Word]:
    """Every word with its box, from ``pdftotext -bbox``."""
    out = poppler("pdftotext", "-bbox", "-", "-", data=pdf).decode()
    words = []
    for page, body in enumerate(_PAGE.findall(out), start=1):
        for x0, y0, x1, y1, text in _WORD.findall(body):
            words.append(
                Word(html.unescape(text), float(x0), float(y0), float(x1), float(y1), page)
            )
    return words


def page_count(pdf: bytes) -> int:
    info = poppler("pdfinfo", "-", data=pdf).decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def pdf_info(pdf: bytes) -> dict[str, str]:
    info = poppler("pdfinfo", "-", data=pdf).decode()
    return dict(
        (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in info.splitlines())
    )


def gray_page(
    pdf: bytes, tmp_path: Path, *, dpi: int = 100, page: int = 1
) -> tuple[int, int, bytes]:
    """Page ``page`` rendered by pdftoppm as 8-bit grey: (width, height, pixels row by row)."""
    stem = tmp_path / f"page{page}"
    src = tmp_path / "in.pdf"
    src.write_bytes(pdf)
    poppler("pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page),
            "-singlefile", str(src), str(stem))  # fmt: skip
    return read_pgm(stem.with_suffix(".pgm").read_bytes())


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """A binary PGM (P5, maxval 255) as (width, height, pixels)."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5", fields
    assert fields[3] == b"255", fields
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos + 1 : pos + 1 + w * h]


def sample_referral(**changes: object) -> Referral057:
    """A filled 057/у whose every value is distinct, so each can be found in the text."""
    base = Referral057(
        organisation="ГБУЗ «Городская поликлиника № 12 ДЗМ», 117042, г. Москва, ул. Южнобутовская, д. 87",
        ogrn="1027739812345",
        number="2025-000123",
        filled_on=dt.date(2025, 11, 5),
        destination="ГБУЗ «Городская клиническая больница № 1 им. Н. И. Пирогова ДЗМ»",
        policy_number="7755110000123456",
        policy_issued_on=dt.date(2019, 3, 14),
        insurer="АО «Страховая компания «СОГАЗ-Мед», Московский филиал",
        patient_name="Щукина Анна Петровна",
        birth_date=dt.date(1980, 1, 7),
        sex=2,
        residence=Address("г. Москва", "Южное Бутово", "Москва", "ул. Грина", "7", "2", "115"),
        stay=Address(
            "Московская область", "Ленинский", "пос. Развилка", "ул. Первая", "15А", "3", "48"
        ),
        locality_type=1,
        employment=3,
        diagnosis="I11.9 Гипертензивная болезнь сердца без застойной сердечной недостаточности",
        purpose="консультация врача-кардиолога",
        care_form=3,
        care_kind=1,
        care_conditions=1,
        justification="Стойкое повышение АД до 170/100 мм рт. ст. на фоне терапии. Курсов лечения: 1.",
        referrer_position="Врач-терапевт участковый",
        referrer_name="Ёлкин Сергей Иванович",
    )
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]
