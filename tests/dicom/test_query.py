"""C-ECHO and C-FIND against Orthanc: typed records at every level, one reused association."""

from __future__ import annotations

import datetime as dt

import pytest

from arm.orthanc_local import free_port
from dicom.errors import PacsTimeout, PacsUnavailable, UnknownCalledAE
from dicom.query import PacsConnection, echo
from tests.dicom.conftest import ARM_AE, CT_PATIENT, PacsUnderTest


def test_echo(pacs: PacsUnderTest) -> None:
    echo(pacs.config, ARM_AE)


def test_echo_on_the_reused_association(connection: PacsConnection) -> None:
    connection.echo()
    first = connection._assoc
    connection.echo()
    assert connection._assoc is first


def test_find_patients(connection: PacsConnection) -> None:
    found = connection.find_patients(patient_id=CT_PATIENT.patient_id)
    assert len(found) == 1
    p = found[0]
    assert p.name == CT_PATIENT.name
    assert p.birth_date == dt.date(1980, 5, 12)
    assert p.sex == "M"
    assert p.studies == 1


def test_find_patients_by_name_wildcard(connection: PacsConnection) -> None:
    found = connection.find_patients(name="Петрова*")
    assert [p.patient_id for p in found] == ["MR-0002"]


def test_find_studies(pacs: PacsUnderTest, connection: PacsConnection) -> None:
    studies = connection.find_studies()
    assert {s.study_uid for s in studies} >= {spec.study_uid for spec in pacs.all_studies}
    ct = next(s for s in studies if s.study_uid == pacs.ct.study_uid)
    assert ct.patient_id == CT_PATIENT.patient_id
    assert ct.patient_name == CT_PATIENT.name
    assert ct.study_date == dt.date(2024, 1, 15)
    assert ct.study_time == dt.time(10, 15)
    assert ct.description == "КТ органов грудной клетки"
    assert ct.accession == "A-1001"
    assert ct.modalities == ("CT",)
    assert (ct.series_count, ct.instance_count) == (2, 40)
    # newest first
    dates = [s.study_date for s in studies]
    assert dates == sorted(dates, reverse=True)


def test_find_studies_by_date_range_and_modality(
    pacs: PacsUnderTest, connection: PacsConnection
) -> None:
    march = connection.find_studies(date_from=dt.date(2024, 3, 1), date_to=dt.date(2024, 3, 31))
    assert [s.study_uid for s in march] == [pacs.mr.study_uid]
    mr = connection.find_studies(modality="MR")
    assert [s.study_uid for s in mr] == [pacs.mr.study_uid]


def test_find_series(pacs: PacsUnderTest, connection: PacsConnection) -> None:
    series = connection.find_series(pacs.ct.study_uid)
    assert [(s.number, s.modality, s.description, s.instance_count) for s in series] == [
        (1, "CT", "Лёгкие", 20),
        (2, "CT", "Мягкие ткани", 20),
    ]


def test_find_instances(pacs: PacsUnderTest, connection: PacsConnection) -> None:
    series = connection.find_series(pacs.ct.study_uid)[0]
    found = connection.find_instances(pacs.ct.study_uid, series.series_uid)
    assert len(found) == 20
    assert {i.series_uid for i in found} == {series.series_uid}
    assert {i.sop_class for i in found} == {"1.2.840.10008.5.1.4.1.1.2"}
    assert sorted(i.instance_number or 0 for i in found) == list(range(1, 21))


def test_wrong_called_ae_is_rejected_with_the_reason(pacs: PacsUnderTest) -> None:
    bad = pacs.config.__class__(pacs.config.name, "NOT_ORTHANC", "127.0.0.1", pacs.config.port)
    with pytest.raises(UnknownCalledAE) as info:
        echo(bad, ARM_AE)
    assert "вызываемый AE title" in str(info.value)
    assert not info.value.transient


def test_closed_port_is_pacs_unavailable(pacs: PacsUnderTest) -> None:
    down = pacs.config.__class__("Архив", "ORTHANC", "127.0.0.1", free_port())
    with pytest.raises(PacsUnavailable) as info:
        PacsConnection(down, ARM_AE).find_studies()
    assert info.value.transient
    assert "Архив" in str(info.value)


def test_silent_peer_is_a_timeout(silent_peer: int, pacs: PacsUnderTest) -> None:
    from dicom.config import PacsConfig, Timeouts

    cfg = PacsConfig("Молчун", "X", "127.0.0.1", silent_peer, timeouts=Timeouts(acse=0.5))
    with pytest.raises(PacsTimeout):
        echo(cfg, ARM_AE)
