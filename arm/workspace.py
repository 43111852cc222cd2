"""Opening the database, the workstation's sign-in service, and the signed-in workspace.

On the embedded default (SQLite) a fresh PC creates and migrates its database itself, and in
demo mode fills it with the demo polyclinic and enrols the demo staff cards on first start.
A shared PostgreSQL is never migrated by a workstation behind the administrator's back: an
outdated schema is an error that names the command to run.

:class:`Station` is opened once per start; :class:`Workspace` is built for each person who
signs in with their card and is thrown away when someone else signs in.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from arm.settings import Settings
from arm.sms_service import SmsService, gateway_config
from arm.study_service import StudyService
from services import roaming, secrets
from services.card.oms import OmsHolder
from services.card.session import Transmit
from services.child_access import DEFAULT_CODE_TTL
from services.child_access_desk import ChildAccessDesk
from services.db import (
    create_db_engine,
    current_revision,
    database_errors,
    describe_database,
    make_session_factory,
    upgrade_schema,
)
from services.demo import DEMO_WORKSTATION_CODE, seed_demo
from services.demo_cards import demo_patient_holder, ensure_demo_cards
from services.emk_desk import EmkDesk
from services.errors import ConflictError
from services.migrations import HEAD
from services.models import Patient, Role, Workstation
from services.patients import list_departments
from services.prescription_desk import PrescriptionDesk
from services.prescriptions import REGION_CODE
from services.referral_desk import ReferralDesk
from services.registry import Registry
from services.schedule_desk import ScheduleDesk
from services.sick_leave_desk import SickLeaveDesk
from services.signin import SignedIn, SignIn
from services.study_desk import StudyDesk
from services.tasks import TaskState

__all__ = ["Station", "Workspace", "open_database", "open_station"]

# No screen waits longer than this for one statement: past it, «нет связи» and «Повторить».
STATEMENT_TIMEOUT_S = 30.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workspace:
    """Everything a signed-in window needs, built once per sign-in."""

    engine: Engine
    registry: Registry
    schedule: ScheduleDesk
    emk: EmkDesk
    referrals: ReferralDesk
    prescriptions: PrescriptionDesk
    sick_leave: SickLeaveDesk
    child_access: ChildAccessDesk
    studies: StudyDesk
    staff_id: int
    staff_name: str
    staff_position: str
    roles: frozenset[Role]
    workstation_code: str
    departments: list[tuple[int, str]]
    database: str


@dataclass(frozen=True)
class Station:
    """This workstation with its database open, before anyone has signed in."""

    engine: Engine
    sessions: sessionmaker[Session]
    signin: SignIn
    workstation_id: int | None
    workstation_code: str
    departments: list[tuple[int, str]]
    database: str
    demo_cards: dict[str, Path]
    demo_patient: OmsHolder | None = None  # the OMS card in the demo's tray
    code_ttl: dt.timedelta = DEFAULT_CODE_TTL  # a child-access code's life
    region_code: str = REGION_CODE  # the 148-1/у-04(л) series' region
    sms: SmsService | None = None  # the in-app SMS dispatcher (demo, one-PC setups)
    studies: StudyService | None = None  # cache, PACS list, storage SCP (None: DICOM off)

    def workspace_for(self, who: SignedIn) -> Workspace:
        actor = who.actor(self.workstation_id)
        return Workspace(
            engine=self.engine,
            registry=Registry(self.sessions, actor),
            schedule=ScheduleDesk(self.sessions, actor),
            emk=EmkDesk(self.sessions, actor),
            referrals=ReferralDesk(self.sessions, actor),
            prescriptions=PrescriptionDesk(self.sessions, actor, region_code=self.region_code),
            sick_leave=SickLeaveDesk(self.sessions, actor),
            child_access=ChildAccessDesk(self.sessions, actor, self.code_ttl),
            studies=StudyDesk(self.sessions, actor),
            staff_id=who.staff_id,
            staff_name=who.short_name,
            staff_position=who.position,
            roles=who.roles,
            workstation_code=self.workstation_code,
            departments=self.departments,
            database=self.database,
        )

    def load_state(self, staff_id: int) -> dict[str, Any]:
        with database_errors(self.database), self.sessions() as s:
            return roaming.load_state(s, staff_id)

    def save_state(self, staff_id: int, state: dict[str, Any]) -> None:
        with database_errors(self.database), self.sessions.begin() as s:
            roaming.save_state(s, staff_id, self.workstation_id, state)


def open_database(settings: Settings) -> Engine:
    """Connect, and migrate when this PC owns the database (the embedded SQLite file)."""
    url = settings.effective_database_url
    engine = create_db_engine(
        url, password=secrets.db_password(url), statement_timeout_s=STATEMENT_TIMEOUT_S
    )
    try:
        current = current_revision(engine)
        if current != HEAD:
            if not settings.is_embedded:
                raise ConflictError(
                    "Схема базы данных не соответствует этой версии ARM. Администратору: "
                    "выполните «arm db upgrade», затем перезапустите программу."
                )
            upgrade_schema(engine)
    except Exception:
        engine.dispose()
        raise
    return engine


def open_station(settings: Settings, state: TaskState) -> Station:
    state.report(0, 0, "Подключение к базе данных…")
    engine = open_database(settings)
    from services.mkb10 import catalog

    catalog()  # the МКБ-10 catalog loads here, in the worker, not at the first keystroke
    sessions = make_session_factory(engine)
    with sessions() as s:
        empty = not s.scalar(select(func.count()).select_from(Patient))
    if settings.demo and empty:
        state.report(0, 0, "Создание демонстрационной поликлиники…")
        seed_demo(engine)
    demo_cards: dict[str, Path] = {}
    demo_patient: OmsHolder | None = None
    if settings.demo:
        demo_cards = ensure_demo_cards(sessions, settings.data_dir / "demo-cards")
        demo_patient = demo_patient_holder(sessions)
    code = DEMO_WORKSTATION_CODE if settings.demo else settings.workstation_code
    with sessions() as s:
        ws_id = s.scalar(select(Workstation.id).where(Workstation.code == code))
        departments = list_departments(s)
    if ws_id is None:
        log.warning("workstation %r is not registered; audit events will not name it", code)
    sms_service = None
    if settings.demo and not settings.sms_gateway_url:
        sms_service = SmsService.for_demo(sessions, settings.data_dir).start()
    elif settings.sms_dispatch_in_app:
        sms_service = SmsService(
            sessions, gateway_config(settings), dlr_listen=settings.sms_dlr_listen
        ).start()
    studies = StudyService(settings, sessions)
    return Station(
        engine=engine,
        sessions=sessions,
        signin=SignIn(sessions, ws_id, pcsc_opener),
        workstation_id=ws_id,
        workstation_code=code,
        departments=departments,
        database=describe_database(settings.effective_database_url),
        demo_cards=demo_cards,
        demo_patient=demo_patient,
        code_ttl=dt.timedelta(hours=settings.child_access_code_hours),
        region_code=settings.prescription_region,
        sms=sms_service,
        studies=studies,
    )


def pcsc_opener(reader: str) -> tuple[Transmit, Callable[[], None]]:
    # pyscard is imported here, in a worker: the window paints before it loads.
    from services.card.pcsc import open_card

    card, transmit = open_card(reader)
    return transmit, card.close
