"""Child-access codes and the SMS outbox: what a code costs, and what the outbox costs on top of
sending straight to Kannel.

- hashing a code (scrypt n=2**14) and redeeming one (verify + row lock + commit), SQLite;
- 200 messages through the outbox and dispatcher to a private Kannel with its fake SMSC,
  against the anchor: the same 200 sent straight through the gateway with no database.

    .venv/bin/python bench/sms.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test factories

N = 200


def main() -> int:
    from arm.kannel_local import LocalKannel
    from services import child_access, relations, sms
    from services.audit import Actor
    from services.db import create_db_engine, make_session_factory, sqlite_url, upgrade_schema
    from services.kannel import KannelConfig, KannelGateway
    from services.models import RelationKind, Role, Sex
    from services.relations import RelationInput

    tmp = Path(tempfile.mkdtemp(prefix="arm-bench-sms-"))
    engine = create_db_engine(sqlite_url(tmp / "arm.sqlite3"))
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    actor = Actor(None, None, frozenset({Role.REGISTRAR}))

    # --- the code ---------------------------------------------------------------------------
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        child_access.hash_code("123456")
        times.append(time.perf_counter() - t0)
    print(f"hash a code (scrypt n=2**14, r=8): {statistics.median(times) * 1000:.1f} ms")

    from tests.factories import base_org, person

    doctor, _dept = base_org(sessions)
    today = dt.date.today()
    birth = today.replace(year=today.year - 8, day=min(today.day, 28))
    child = person(sessions, doctor, "Бенчев", "Иван", sex=Sex.MALE, birth=birth)
    mum = person(sessions, doctor, "Бенчева", "Анна", birth=dt.date(1985, 1, 1))
    with sessions() as s:
        relations.add_relation(s, doctor, child.id, RelationInput(
            relative_id=mum.id, kind=RelationKind.MOTHER, is_legal_representative=True,
            valid_from=dt.date(2020, 1, 1),
        ))  # fmt: skip
    redeem = []
    for _ in range(10):
        with sessions() as s:
            child_access.send_code(s, actor, child.id, mum.id, "+79161234567", True)
        from sqlalchemy import select

        from services.models import SmsMessage

        with sessions() as s:
            body = s.scalars(select(SmsMessage.body).order_by(SmsMessage.id.desc())).first()
        code = next(w.strip(".") for w in (body or "").split() if w.strip(".").isdigit())
        t0 = time.perf_counter()
        with sessions() as s:
            child_access.redeem(s, "+79161234567", code)
        redeem.append(time.perf_counter() - t0)
    print(f"redeem a code (verify, row lock, commit): {statistics.median(redeem) * 1000:.1f} ms")

    # --- the outbox against Kannel ----------------------------------------------------------
    kannel = LocalKannel(tmp / "kannel").start()
    try:
        gw = KannelGateway(KannelConfig(kannel.sendsms_url, kannel.username, kannel.password))
        t0 = time.perf_counter()
        for i in range(N):
            assert gw.send(i, "+79161234567", f"прямо {i}").accepted
        direct = time.perf_counter() - t0
        with sessions() as s:
            for i in range(N):
                sms.enqueue(s, "+79161234567", f"через очередь {i}")
            s.commit()
        d = sms.Dispatcher(sessions, gw, batch=50)
        t0 = time.perf_counter()
        sent = 0
        while True:
            r = d.run_once()
            sent += r.sent
            if not r:
                break
        outbox = time.perf_counter() - t0
    finally:
        kannel.stop()
    print(f"{N} SMS straight to Kannel (anchor): {direct:.2f} s, {N / direct:.0f}/s")
    print(f"{sent} SMS through outbox + dispatcher: {outbox:.2f} s, {sent / outbox:.0f}/s "
          f"(×{outbox / direct:.2f} the anchor)")  # fmt: skip
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
