"""A referral issued in the database comes out on form 057/у with every field the service
knows, as text poppler can read back; a second print is marked as a duplicate."""

from __future__ import annotations

import subprocess

from sqlalchemy import Engine

from services import referrals
from services.db import make_session_factory
from services.models import Organisation, ReferralKind, Staff
from services.printouts import archive
from services.referrals import ReferralInput
from tests.factories import base_org, person
from widgets.referrals.print_job import referral_job


def _text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True)
    assert out.returncode == 0, "pdftotext failed — apt-get install poppler-utils"
    return " ".join(out.stdout.decode().split())


def test_the_printed_057_carries_the_referral(sqlite_engine: Engine) -> None:
    sessions = make_session_factory(sqlite_engine)
    doctor, _dept = base_org(sessions)
    with sessions() as s:
        org = s.query(Organisation).one()
        org.address = "117335, г. Москва, ул. Гарибальди, д. 21"
        me = s.get(Staff, doctor.staff_id)
        assert me is not None
        me.specialty = "Терапия"
        s.commit()
    p = person(sessions, doctor, "Ёлкина", "Дарья", "Юрьевна")
    inp = ReferralInput(
        ReferralKind.HOSPITALISATION,
        "I20.0",
        "Нестабильная стенокардия: боли в покое до 20 минут, депрессия ST",
        target_organisation="ГБУЗ «ГКБ № 1 им. Н. И. Пирогова ДЗМ»",
        cito=True,
    )
    with sessions() as s:
        (rid,) = referrals.issue(s, doctor, p.id, [inp])
        data = referrals.print_data(s, rid)
    job = referral_job(data)
    text = _text(job.pdf)
    for value in (
        "ГБУЗ «ГП № 1», 117335, г. Москва, ул. Гарибальди, д. 21",
        "1027700000001",
        f"№ {data.number}",
        "ГБУЗ «ГКБ № 1 им. Н. И. Пирогова ДЗМ»",
        p.policy_number,
        "Ёлкина Дарья Юрьевна",
        "ул. Профсоюзная",
        "I20.0 Нестабильная стенокардия",
        "госпитализация: ГБУЗ «ГКБ № 1 им. Н. И. Пирогова ДЗМ»",
        "Нестабильная стенокардия: боли в покое до 20 минут, депрессия ST",
        "Врач-терапевт участковый, терапия",
        "Петрова Анна Сергеевна",
        "CITO",
    ):
        assert value in text, value
    assert "ДУБЛИКАТ" not in text.upper()
    with sessions() as s:
        archive(s, doctor, job)
        again = referral_job(referrals.print_data(s, rid))
    assert again.copy_no == 2
    assert "ДУБЛИКАТ" in _text(again.pdf).upper()
