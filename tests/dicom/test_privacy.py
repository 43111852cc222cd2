"""Patient identifiers never reach the log, even with every logger at DEBUG."""

from __future__ import annotations

import logging

import pytest

from dicom.cache import StudyCache
from dicom.progress import SimpleState
from dicom.query import PacsConnection
from dicom.retrieve import Method, Retriever
from dicom.storage_scp import StorageServer
from tests.dicom.conftest import CT_PATIENT, PacsUnderTest


@pytest.mark.parametrize("method", [Method.GET, Method.MOVE])
def test_no_patient_identifiers_in_the_log(
    pacs: PacsUnderTest,
    connection: PacsConnection,
    cache: StudyCache,
    storage: StorageServer,
    caplog: pytest.LogCaptureFixture,
    method: Method,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="pynetdicom")
    connection.find_patients(name="Иванов*")
    connection.find_studies(patient_id=CT_PATIENT.patient_id)
    Retriever(connection, cache, storage=storage).retrieve(
        pacs.ct.study_uid, SimpleState(), method=method
    )
    text = caplog.text
    assert caplog.records  # pynetdicom did log (association, DIMSE) …
    for secret in (CT_PATIENT.patient_id, "Иванов", "Ivanov", CT_PATIENT.birth_date):
        assert secret not in text  # … but no name, ID or birth date
