"""Referrals bound to a database and an actor — what the referral screens are given.

Issuing and cancelling are record writes (a doctor's); the list and the 057/у print carry the
diagnosis, so they are record reads; booking by referral is schedule work, which a registrar
does too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from services import printouts, referrals
from services.access import Permission
from services.bound import BoundService
from services.models import BookingSource
from services.printouts import PrintJob
from services.referrals import BookingSlot, ReferralInput, ReferralPrint, ReferralRow

__all__ = ["ReferralDesk"]

_READ = Permission.RECORD_READ
_WRITE = Permission.RECORD_WRITE


class ReferralDesk(BoundService):
    def specialties(self) -> list[str]:
        return self._run(referrals.specialties, _READ)

    def of_patient(self, patient_id: int) -> list[ReferralRow]:
        return self._run(
            lambda s: referrals.patient_referrals(s, patient_id), _READ, "", patient_id
        )

    def get(self, referral_id: int) -> ReferralRow:
        return self._run(lambda s: referrals.get(s, referral_id), Permission.SCHEDULE)

    def issue(
        self, patient_id: int, inputs: Sequence[ReferralInput], encounter_id: int | None = None
    ) -> list[ReferralRow]:
        def work(s: Session) -> list[ReferralRow]:
            ids = referrals.issue(s, self.actor, patient_id, inputs, encounter_id=encounter_id)
            return [referrals.get(s, i) for i in ids]

        return self._run(work, _WRITE, "referral.issue", patient_id)

    def cancel(self, referral_id: int, reason: str) -> ReferralRow:
        def work(s: Session) -> ReferralRow:
            referrals.cancel(s, self.actor, referral_id, reason)
            return referrals.get(s, referral_id)

        return self._run(work, _WRITE, "referral.cancel")

    def booking_slots(self, referral_id: int) -> list[BookingSlot]:
        return self._run(lambda s: referrals.booking_slots(s, referral_id), Permission.SCHEDULE)

    def book(
        self, referral_id: int, slot_id: int, source: BookingSource = BookingSource.DOCTOR
    ) -> ReferralRow:
        def work(s: Session) -> ReferralRow:
            referrals.book(s, self.actor, referral_id, slot_id, source)
            return referrals.get(s, referral_id)

        return self._run(work, Permission.SCHEDULE, "referral.book")

    def print_data(self, referral_id: int) -> ReferralPrint:
        return self._run(lambda s: referrals.print_data(s, referral_id), _READ)

    def archive(self, job: PrintJob) -> int:
        return self._run(
            lambda s: printouts.archive(s, self.actor, job), _READ, "print", job.patient_id
        )

    def imaging_worklist(self, start: dt.date, end: dt.date) -> list[ReferralRow]:
        return self._run(lambda s: referrals.imaging_worklist(s, start, end), Permission.STUDIES)
