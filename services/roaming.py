"""The roaming workspace: saved per staff member in the shared database, restored anywhere.

The state is the GUI's JSON (open patient and tab, unsaved draft text, scroll positions).  It
may hold unsaved text of a record, so it lives in the database next to the record itself —
never in a file on the PC, which the next person at the desk could read.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from services.models import WorkspaceState

__all__ = ["MAX_STATE_BYTES", "clear_state", "load_state", "save_state"]

#: A guard against a runaway draft: ~2 MB of JSON is far beyond any real protocol.
MAX_STATE_BYTES = 2_000_000


def save_state(
    session: Session, staff_id: int, workstation_id: int | None, state: dict[str, Any]
) -> None:
    text = json.dumps(state, ensure_ascii=False)
    if len(text.encode()) > MAX_STATE_BYTES:
        raise ValueError("workspace state too large")
    row = session.get(WorkspaceState, staff_id)
    if row is None:
        row = WorkspaceState(staff_id=staff_id)
        session.add(row)
    row.state = text
    row.workstation_id = workstation_id
    row.saved_at = dt.datetime.now(dt.UTC)


def load_state(session: Session, staff_id: int) -> dict[str, Any]:
    row = session.get(WorkspaceState, staff_id)
    if row is None:
        return {}
    try:
        data = json.loads(row.state)
    except ValueError:
        return {}  # a damaged state must never stop a doctor from signing in
    return data if isinstance(data, dict) else {}


def clear_state(session: Session, staff_id: int) -> None:
    row = session.get(WorkspaceState, staff_id)
    if row is not None:
        session.delete(row)
