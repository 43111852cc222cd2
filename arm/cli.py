"""The one command-line entry point: ``arm`` starts the window, sub-commands serve admins.

arm                       start ARM (embedded SQLite unless configured otherwise)
arm --demo                start on the demo polyclinic (seeded on first start)
arm db upgrade            migrate the configured database to this version's schema
arm db current            print the schema revision
arm demo seed             fill an empty database with the demo polyclinic
arm admin seed --patients 1000000   bulk-load synthetic patients (benchmarks)
arm admin set-db-password store the database password in the OS keyring
arm admin schedule generate --staff 12 --from 2026-12-01 --to 2026-12-31 \
    --week "пн-пт 08:00-14:00; сб 09:00-13:00" [--slot-minutes 15] [--room 305]
                          open a doctor's slots for a period by a weekly pattern
arm admin print calibration [--out FILE]   the calibration sheet (with the current offset)
arm admin print offset X Y  this PC's printer offset in mm for pre-printed blanks (site config)
arm sms dispatch [--once]  deliver the SMS outbox through Kannel (run as a service)
arm sms set-password      store the SMS gateway's password in the OS keyring
arm access redeem --phone +79161234567 --code 123456
                          what the portal calls: redeem a child-access code
arm access check --grant N
                          is this child access on right now (exit 0) or not (exit 1)
arm --database-url URL admin workstation register --room 214 [--department …] [--code …]
                          this PC in its room: site config + password in the keyring
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from arm import __version__
from arm.settings import Settings, load_settings
from services.errors import ArmError

__all__ = ["main"]

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("arm")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="arm", description="ARM — АРМ врача поликлиники")
    p.add_argument("--version", action="version", version=f"arm {__version__}")
    p.add_argument("--database-url", help="SQLAlchemy URL (overrides the config)")
    p.add_argument("--data-dir", help="directory for the embedded database and local data")
    p.add_argument(
        "--demo", action="store_true", default=None, help="demo polyclinic with virtual staff cards"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command")

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="migrate to the latest schema")
    db.add_parser("current", help="print the current and latest revision")

    demo = sub.add_parser("demo", help="demo data").add_subparsers(
        dest="demo_command", required=True
    )
    seed = demo.add_parser("seed", help="fill an empty database with the demo polyclinic")
    seed.add_argument("--patients", type=int, default=5000)
    seed.add_argument("--seed", type=int, default=1)

    admin = sub.add_parser("admin", help="administration").add_subparsers(
        dest="admin_command", required=True
    )
    bulk = admin.add_parser("seed", help="bulk-load synthetic patients (benchmarks)")
    bulk.add_argument("--patients", type=int, required=True)
    admin.add_parser("set-db-password", help="store the database password in the OS keyring")
    card = admin.add_parser("card", help="staff smart cards").add_subparsers(
        dest="card_command", required=True
    )
    enroll = card.add_parser("enroll", help="bind the card in the reader to a staff member")
    enroll.add_argument("--staff", type=int, required=True, help="staff member's id")
    enroll.add_argument("--reader", help="reader name (default: the first with a card)")
    revoke = card.add_parser("revoke", help="block a card for good")
    revoke.add_argument("--serial", required=True, help="the card's serial number")
    schedule = admin.add_parser("schedule", help="doctors' schedules").add_subparsers(
        dest="schedule_command", required=True
    )
    gen = schedule.add_parser(
        "generate",
        help="open slots for a period by a weekly pattern",
        description="Open a doctor's slots for a period by a weekly pattern. Days that "
        "already have slots for this doctor are skipped, so running it twice is harmless.",
    )
    gen.add_argument("--staff", type=int, required=True, metavar="ID", help="the doctor's staff id")
    gen.add_argument(
        "--from",
        dest="first",
        type=_iso_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="first day",
    )
    gen.add_argument(
        "--to",
        dest="last",
        type=_iso_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="last day (included)",
    )
    gen.add_argument(
        "--week",
        required=True,
        metavar="PATTERN",
        help="working hours, e.g. «пн-пт 08:00-14:00; сб 09:00-13:00» (or mon-fri)",
    )
    gen.add_argument(
        "--slot-minutes",
        type=int,
        default=15,
        metavar="N",
        help="length of a slot in minutes, 5-120 (default 15)",
    )
    gen.add_argument("--room", metavar="NUMBER", help="number of the room (кабинет) for the slots")
    sms_cmd = sub.add_parser("sms", help="the SMS outbox").add_subparsers(
        dest="sms_command", required=True
    )
    dispatch = sms_cmd.add_parser(
        "dispatch",
        help="deliver queued SMS through the gateway",
        description="Deliver the outbox through Kannel, retrying while it is down, and take "
        "its delivery reports. Runs until stopped; --once makes one pass and exits.",
    )
    dispatch.add_argument("--once", action="store_true", help="one pass, no delivery reports")
    sms_cmd.add_parser("set-password", help="store the SMS gateway's password in the keyring")
    access = sub.add_parser("access", help="child EMK access codes").add_subparsers(
        dest="access_command", required=True
    )
    redeem = access.add_parser("redeem", help="redeem a code as the portal does")
    redeem.add_argument("--phone", required=True, help="the parent's mobile number")
    redeem.add_argument("--code", required=True, help="the code from the SMS")
    check = access.add_parser("check", help="is a grant's access on right now")
    check.add_argument("--grant", type=int, required=True, metavar="ID")
    printing = admin.add_parser("print", help="printing on pre-printed blanks").add_subparsers(
        dest="print_command", required=True
    )
    calib = printing.add_parser(
        "calibration",
        help="write the calibration sheet as a PDF to print at 100 %%",
        description="Print the PDF at 100 %% scale, measure cross А from the paper's left and "
        "top edges, and set the difference from 20 mm, negated, with «arm admin print offset».",
    )
    calib.add_argument("--out", default="calibration.pdf", help="the PDF to write")
    offset = printing.add_parser(
        "offset", help="set this PC's printer offset in mm, e.g. «arm admin print offset 1.5 -0.8»"
    )
    offset.add_argument("x", type=float, help="mm to the right (negative: to the left)")
    offset.add_argument("y", type=float, help="mm down (negative: up)")
    from arm.admin_workstation import add_parser as add_workstation_parser

    add_workstation_parser(admin)
    return p


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"неверная дата «{text}»: нужен формат ГГГГ-ММ-ДД"
        ) from None


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        database_url=args.database_url,
        data_dir=None if args.data_dir is None else Path(args.data_dir),
        demo=args.demo,
    )


def _engine(settings: Settings, *, migrate: bool = True) -> Engine:
    from services import secrets
    from services.db import create_db_engine, upgrade_schema

    url = settings.effective_database_url
    engine = create_db_engine(url, password=secrets.db_password(url))
    if migrate:
        upgrade_schema(engine)
    return engine


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.command is None:
        from arm.app import run_gui

        return run_gui(settings)
    if args.command == "db":
        from services.db import current_revision, head_revision

        engine = _engine(settings, migrate=args.db_command == "upgrade")
        print(f"schema: {current_revision(engine)} (latest {head_revision(engine)})")  # noqa: T201
        return 0
    if args.command == "demo":
        from services.demo import seed_demo

        t0 = time.monotonic()
        summary = seed_demo(_engine(settings), patients=args.patients, seed=args.seed)
        print(f"demo polyclinic created in {time.monotonic() - t0:.1f} s: {summary}")  # noqa: T201
        return 0
    if args.command == "admin" and args.admin_command == "seed":
        from services.bulk_seed import bulk_seed_patients

        t0 = time.monotonic()

        def progress(done: int, total: int) -> None:
            print(f"\r{done:,} / {total:,} patients", end="", file=sys.stderr, flush=True)  # noqa: T201

        n = bulk_seed_patients(_engine(settings), args.patients, progress=progress)
        print(f"\n{n:,} patients loaded in {time.monotonic() - t0:.1f} s")  # noqa: T201
        return 0
    if args.command == "admin" and args.admin_command == "set-db-password":
        from services.secrets import set_db_password

        url = settings.effective_database_url
        if settings.is_embedded:
            print("the embedded SQLite database has no password")  # noqa: T201
            return 2
        set_db_password(url, getpass.getpass(f"Пароль для {url}: "))
        print("сохранено в хранилище ключей")  # noqa: T201
        return 0
    if args.command == "admin" and args.admin_command == "print":
        return _print_command(args, settings)
    if args.command == "sms":
        return _sms_command(args, settings)
    if args.command == "access":
        return _access_command(args, settings)
    if args.command == "admin" and args.admin_command == "card":
        return _card_command(args, settings)
    if args.command == "admin" and args.admin_command == "schedule":
        return _schedule_command(args, settings)
    if args.command == "admin" and args.admin_command == "workstation":
        from arm.admin_workstation import register_workstation

        return register_workstation(args, settings)
    raise AssertionError(args)


def _print_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.print_command == "calibration":
        from printing.calibration import render_calibration_sheet
        from printing.page import PrintOptions

        pdf = render_calibration_sheet(PrintOptions(offset_mm=settings.print_offset))
        Path(args.out).write_bytes(pdf)
        x, y = settings.print_offset
        print(f"{args.out}: напечатайте в масштабе 100 % (смещение сейчас {x:g}; {y:g} мм)")  # noqa: T201
        return 0
    from arm.settings import parse_offset, site_config_path, update_config_file

    x, y = parse_offset(f"{args.x},{args.y}", source="arm admin print offset")
    path = site_config_path()
    try:
        update_config_file(path, {"printing": {"offset_mm": f"{x:g},{y:g}"}})
    except PermissionError:
        print(f"нет права записи в {path}: запустите от имени администратора (sudo)",  # noqa: T201
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"смещение печати {x:g}; {y:g} мм записано в {path}")  # noqa: T201
    return 0


def _sms_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.sms_command == "set-password":
        from services.secrets import set_sms_password

        if not settings.sms_gateway_url:
            print("задайте [sms] gateway_url в настройках", file=sys.stderr)  # noqa: T201
            return 2
        url, user = settings.sms_gateway_url, settings.sms_username
        set_sms_password(url, user, getpass.getpass(f"Пароль {user}@{url}: "))
        print("сохранено в хранилище ключей")  # noqa: T201
        return 0
    from arm.sms_service import SmsService, gateway_config
    from services.db import make_session_factory
    from services.kannel import KannelGateway
    from services.sms import Dispatcher

    config = gateway_config(settings)
    if config is None:
        print("шлюз SMS не настроен: задайте [sms] gateway_url", file=sys.stderr)  # noqa: T201
        return 2
    sessions = make_session_factory(_engine(settings, migrate=settings.is_embedded))
    if args.once:
        report = Dispatcher(sessions, KannelGateway(config)).run_once()
        print(  # noqa: T201
            f"отправлено {report.sent}, отложено {report.retried}, "
            f"под вопросом {report.uncertain}, просрочено {report.expired}"
        )
        return 0
    service = SmsService(sessions, config, dlr_listen=settings.sms_dlr_listen)
    try:
        service.run()
    except KeyboardInterrupt:
        pass
    return 0


def _access_command(args: argparse.Namespace, settings: Settings) -> int:
    from services import child_access
    from services.db import make_session_factory

    sessions = make_session_factory(_engine(settings, migrate=settings.is_embedded))
    with sessions() as session:
        if args.access_command == "check":
            on = child_access.check(session, args.grant)
            print("доступ открыт" if on else "доступа нет")  # noqa: T201
            return 0 if on else 1
        try:
            done = child_access.redeem(session, args.phone, args.code)
        except child_access.CodeRejected as exc:
            print(f"arm: {exc}", file=sys.stderr)  # noqa: T201
            return 1
    print(f"код принят: доступ открыт (grant {done.grant_id})")  # noqa: T201
    return 0


def _card_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit import Actor
    from services.db import make_session_factory
    from services.signin import enroll_card, revoke_card

    sessions = make_session_factory(_engine(settings, migrate=settings.is_embedded))
    admin = Actor(None, None)
    if args.card_command == "revoke":
        with sessions.begin() as s:
            binding = revoke_card(s, admin, serial=args.serial)
            print(f"карта {binding.card_serial} отозвана")  # noqa: T201
        return 0
    from services.card.pcsc import list_readers_with_cards, open_card
    from services.signin import read_card_key

    readers = list_readers_with_cards(
        settings.card_readers, allow_virtual=settings.accepts_virtual_reader
    )
    reader = args.reader or (readers[0] if readers else None)
    if reader is None or reader not in readers:
        from services.errors import PeerUnavailable

        raise PeerUnavailable("Считыватель карт", "нет разрешённого считывателя с картой")
    card, transmit = open_card(reader)
    try:
        serial, holder, key = read_card_key(transmit)
    finally:
        card.close()
    with sessions.begin() as s:
        enroll_card(s, admin, args.staff, serial, key)
    print(f"карта {serial} ({holder.name}) выдана сотруднику {args.staff}")  # noqa: T201
    return 0


def _schedule_command(args: argparse.Namespace, settings: Settings) -> int:
    """``arm admin schedule generate``: bad input (unknown doctor or room, a pattern that is
    not understood) is a message on stderr and exit code 2, nothing written."""
    from sqlalchemy import select

    from services.audit import Actor
    from services.db import make_session_factory
    from services.errors import ValidationError
    from services.models import Room, Staff
    from services.schedule import generate_slots, parse_week_pattern, short_name

    def refuse(message: str) -> int:
        print(f"arm: {message}", file=sys.stderr)  # noqa: T201
        return 2

    try:
        pattern = parse_week_pattern(args.week)
    except ValidationError as exc:
        return refuse(str(exc))
    sessions = make_session_factory(_engine(settings, migrate=settings.is_embedded))
    admin = Actor(None, None)
    with sessions() as s:
        staff = s.get(Staff, args.staff)
        if staff is None:
            return refuse(f"сотрудник с id {args.staff} не найден")
        room_id: int | None = None
        if args.room is not None:
            rooms = s.execute(
                select(Room.id, Room.department_id).where(Room.number == args.room.strip())
            ).all()
            own = [r for r in rooms if r.department_id == staff.department_id]
            if len(own) == 1:
                room_id = own[0].id
            elif len(rooms) == 1:
                room_id = rooms[0].id
            elif not rooms:
                return refuse(f"кабинет «{args.room}» не найден")
            else:
                return refuse(
                    f"кабинетов с номером «{args.room}» несколько в разных отделениях, "
                    "и ни один не в отделении этого сотрудника"
                )
        who = short_name(staff.surname, staff.name, staff.patronymic)
        try:
            created, skipped = generate_slots(
                s,
                admin,
                staff.id,
                pattern,
                args.first,
                args.last,
                slot_minutes=args.slot_minutes,
                room_id=room_id,
            )
        except ValidationError as exc:
            return refuse(str(exc))
    period = f"{args.first:%d.%m.%Y}–{args.last:%d.%m.%Y}"
    print(f"{who}, {period}: создано слотов: {created}")  # noqa: T201
    if skipped:
        days = ", ".join(f"{d:%d.%m.%Y}" for d in skipped)
        print(f"пропущено дней (слоты уже были): {len(skipped)}: {days}")  # noqa: T201
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Our own progress lines stay; Alembic's per-step chatter is for -v.
        for name in ("arm", "services"):
            logging.getLogger(name).setLevel(logging.INFO)
    try:
        return _run(args)
    except ArmError as exc:
        print(f"arm: {exc}", file=sys.stderr)  # noqa: T201
        return 1
