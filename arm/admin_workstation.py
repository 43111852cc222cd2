"""``arm admin workstation register``: make this PC a workstation of the polyclinic.

What IT staff do once per PC after installing the package: name the room the PC stands in,
give the database's address and password.  The command checks that the database answers and
has this version's schema, records the workstation (so audit events name the room), writes
the database URL and the workstation code into the site config, and puts the password into
the OS keyring of the user running it — never into a file.
"""

from __future__ import annotations

import argparse
import getpass
import socket
import sys

from arm.settings import Settings, site_config_path, update_config_file

__all__ = ["add_parser", "register_workstation"]


def add_parser(admin: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ws = admin.add_parser("workstation", help="this PC as a workstation").add_subparsers(
        dest="workstation_command", required=True
    )
    reg = ws.add_parser(
        "register",
        help="record this PC in its room and write the site config",
        description="Record this PC as a workstation in a room, write the database URL and "
        "the workstation code to the site config (/etc/arm/arm.toml) and the database "
        "password to the OS keyring. Running it again updates the same workstation.",
    )
    reg.add_argument("--room", required=True, metavar="NUMBER", help="room (кабинет) number")
    reg.add_argument(
        "--department",
        metavar="TEXT",
        help="part of the department's name, "
        "when rooms with this number exist in several departments",
    )
    reg.add_argument("--code", help="workstation code (default: the host name)")
    reg.add_argument("--name", help="how lists name it (default: «АРМ, каб. NUMBER»)")
    reg.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the database password from standard input (for scripts)",
    )


def _refuse(message: str) -> int:
    print(f"arm: {message}", file=sys.stderr)  # noqa: T201
    return 2


def register_workstation(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import select
    from sqlalchemy.engine import make_url

    from services import audit, secrets
    from services.audit import Actor
    from services.db import (
        create_db_engine,
        current_revision,
        describe_database,
        make_session_factory,
    )
    from services.migrations import HEAD
    from services.models import Department, Room, Workstation

    url = settings.database_url
    if not url:
        return _refuse("укажите адрес базы данных поликлиники: --database-url postgresql://…")
    if make_url(url).password is not None:
        return _refuse("пароль не пишут в адрес базы данных: он будет запрошен отдельно")
    password: str | None = None
    if make_url(url).get_backend_name() != "sqlite":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif sys.stdin.isatty():
            password = getpass.getpass(f"Пароль для {describe_database(url)}: ")
        else:
            password = secrets.db_password(url)
    engine = create_db_engine(url, password=password or None)
    try:
        revision = current_revision(engine)  # also: does it answer, is the password right
        if revision != HEAD:
            return _refuse(
                f"схема базы данных {revision or 'пуста'}, а этой версии ARM нужна {HEAD}: "
                "выполните «arm db upgrade» (один раз на поликлинику)"
            )
        sessions = make_session_factory(engine)
        number = args.room.strip()
        code = (args.code or socket.gethostname()).strip()
        with sessions.begin() as s:
            q = select(Room.id, Department.name).join(Department).where(Room.number == number)
            if args.department:
                q = q.where(Department.name.ilike(f"%{args.department.strip()}%"))
            rooms = s.execute(q).all()
            if not rooms:
                return _refuse(f"кабинет «{number}» не найден")
            if len(rooms) > 1:
                names = "; ".join(r.name for r in rooms)
                return _refuse(
                    f"кабинет «{number}» есть в нескольких отделениях ({names}): "
                    "уточните --department"
                )
            ws = s.scalar(select(Workstation).where(Workstation.code == code))
            if ws is None:
                ws = Workstation(code=code)
                s.add(ws)
            ws.room_id = rooms[0].id
            ws.name = args.name or f"АРМ, каб. {number}"
            s.flush()
            audit.record(
                s,
                Actor(None, None),
                "workstation.register",
                object_type="workstation",
                object_id=ws.id,
                details=f"{code}: room {number}",
            )
    finally:
        engine.dispose()
    path = site_config_path()
    try:
        update_config_file(path, {"database": {"url": url}, "workstation": {"code": code}})
    except PermissionError:
        return _refuse(f"нет прав на запись {path}: запустите команду от root (sudo)")
    print(f"АРМ «{code}» записан: кабинет {number} ({rooms[0].name})")  # noqa: T201
    print(f"настройки: {path}")  # noqa: T201
    if password:
        try:
            secrets.set_db_password(url, password)
        except Exception as exc:  # noqa: BLE001 — any keyring failure gets the same advice
            print(  # noqa: T201
                f"arm: пароль не сохранён в хранилище ключей ({exc}); выполните "
                "«arm admin set-db-password» от имени пользователя, под которым работает ARM",
                file=sys.stderr,
            )
            return 1
        print("пароль базы данных сохранён в хранилище ключей")  # noqa: T201
    return 0
