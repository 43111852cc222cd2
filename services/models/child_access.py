"""Child EMK access («Доступ к ЭМК ребенка») and the SMS outbox that carries its codes.

A grant is one relative's access to one child's record on the city portal.  It is never
deleted: revoking sets ``revoked_at`` and keeps the row, because who could read a child's
record, and until when, is part of that record's history.  The one-time code is stored only
as a salted scrypt hash; the clear code exists in the outbox row until the gateway accepts
the message, and is then blanked out of it.

The outbox row is written in the same transaction as the grant, so a code is never issued
without its message and a message never goes out for a grant that was rolled back.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, UtcDateTime, str_enum, utcnow


class SmsStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a dispatcher; the request may be on the wire
    SENT = "sent"  # the gateway accepted it
    DELIVERED = "delivered"  # the operator reported delivery to the phone
    FAILED = "failed"  # the operator reported it undeliverable
    UNCERTAIN = "uncertain"  # a dispatcher died mid-request: never resent automatically
    EXPIRED = "expired"  # its content went stale before it could be sent (an old code)
    CANCELLED = "cancelled"  # superseded before it went out (a re-sent code)


class SmsMessage(Base):
    """One SMS in the outbox (``sms_outbox``)."""

    __tablename__ = "sms_outbox"
    __table_args__ = (Index("ix_sms_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16))  # E.164
    body: Mapped[str] = mapped_column(String(480))  # blanked once the gateway has it
    purpose: Mapped[str] = mapped_column(String(40), default="")  # «child_access», …
    status: Mapped[SmsStatus] = mapped_column(str_enum(SmsStatus), default=SmsStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    gateway_reply: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ChildAccessGrant(Base):
    """One relative's access to one child's EMK, from the code's first sending to its end."""

    __tablename__ = "child_access_grant"
    __table_args__ = (
        # One live grant per child and relative: a second «Отправить код» re-sends on it, and
        # two registrars granting at once collide here instead of both succeeding.
        Index(
            "uq_child_access_live",
            "child_id",
            "relative_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
        Index("ix_child_access_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    relation_id: Mapped[int] = mapped_column(ForeignKey("family_relation.id"))
    phone: Mapped[str] = mapped_column(String(16))  # E.164, where the code went
    application_signed: Mapped[bool] = mapped_column(Boolean)  # the paper «заявка» is signed
    granted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    ends_on: Mapped[dt.date] = mapped_column()  # the child's 18th birthday at the latest
    # The current code: scrypt$n$r$p$salt$hash, never the code itself.
    code_hash: Mapped[str] = mapped_column(String(200))
    code_sent_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    code_expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    code_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    sms_id: Mapped[int | None] = mapped_column(ForeignKey("sms_outbox.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    revoke_reason: Mapped[str] = mapped_column(String(300), default="")
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}
