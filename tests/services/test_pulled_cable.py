"""The network to PostgreSQL dies in the middle of saving a card: nothing half-written, a clear
message naming the server, and the same input saved on «Повторить» once the cable is back."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from services.db import create_db_engine, make_session_factory
from services.errors import PeerUnavailable
from services.models import Patient
from services.patient_search import parse_query
from services.registry import Registry
from tests.cable import Cable
from tests.factories import base_org, person


@pytest.mark.pg
def test_cable_pulled_while_the_save_waits_in_the_server(fresh_pg_url: str) -> None:
    direct = create_db_engine(fresh_pg_url)
    direct_sessions = make_session_factory(direct)
    actor, dept = base_org(direct_sessions)
    card = person(direct_sessions, actor, "Соколова", "Ирина", "Петровна", dept_id=dept)
    url = make_url(fresh_pg_url)
    cable = Cable(url.host or "127.0.0.1", url.port or 5432)
    via = create_db_engine(url.set(host="127.0.0.1", port=cable.port))
    try:
        registry = Registry(make_session_factory(via), actor)
        assert [r.id for r in registry.search(parse_query("Соколова"))] == [card.id]
        changed = dataclasses.replace(card.as_input(), address="г. Москва, ул. Новая, д. 5")
        outcome: dict[str, object] = {}

        def save() -> None:
            try:
                outcome["card"] = registry.update(card.id, card.version_id, changed)
            except BaseException as exc:  # noqa: BLE001 — handed to the test thread
                outcome["error"] = exc

        with direct.connect() as colleague, direct.connect() as watcher:
            # A colleague's open transaction holds the row, so our UPDATE sits in the server.
            tx = colleague.begin()
            colleague.execute(
                text("SELECT 1 FROM patient WHERE id = :id FOR UPDATE"), {"id": card.id}
            )
            worker = threading.Thread(target=save)
            worker.start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'arm' "
                        "AND wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar()
                if waiting:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the save never reached the server")
            cable.cut()  # in the middle of the UPDATE
            worker.join(15)
            assert not worker.is_alive(), "a dead connection must not hang the save"
            tx.rollback()

        error = outcome.get("error")
        assert isinstance(error, PeerUnavailable), outcome
        assert f"PostgreSQL: 127.0.0.1/{url.database} — нет связи" in str(error)
        with direct_sessions() as s:
            row = s.get(Patient, card.id)
            assert row is not None
            assert (row.address, row.version_id) == (card.address, card.version_id)
            assert s.scalar(select(func.count()).select_from(Patient)) == 1

        # While the cable is out: an immediate clear error, not a hang.
        t0 = time.monotonic()
        with pytest.raises(PeerUnavailable):
            registry.search(parse_query("Соколова"))
        assert time.monotonic() - t0 < 6

        cable.plug()
        saved = registry.update(card.id, card.version_id, changed)  # «Повторить», same input
        assert saved.address == "г. Москва, ул. Новая, д. 5"
        assert saved.version_id == card.version_id + 1
    finally:
        cable.cut()
        via.dispose()
        direct.dispose()
