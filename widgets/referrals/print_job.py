"""A referral's 057/у as a print job: the service's fields mapped onto the printed form.

It lives here, in the layer that sees both: ``services`` knows the referral, ``printing``
knows the blank, and neither imports the other.
"""

from __future__ import annotations

from printing.page import PrintOptions
from printing.referral_057 import Address, Referral057, render_referral_057
from services.printouts import PrintJob
from services.referrals import ReferralPrint

__all__ = ["referral_form", "referral_job"]


def referral_form(p: ReferralPrint) -> Referral057:
    a = p.residence
    return Referral057(
        organisation=p.organisation,
        ogrn=p.ogrn,
        number=p.number,
        filled_on=p.filled_on,
        destination=p.destination,
        policy_number=p.policy_number,
        policy_issued_on=None,  # not kept in the registry: the line stays blank for the pen
        insurer="",
        patient_name=p.patient_name,
        birth_date=p.birth_date,
        sex=p.sex,
        residence=Address(
            subject=a.subject,
            district=a.district,
            locality=a.locality,
            street=a.street,
            house=a.house,
            building=a.building,
            apartment=a.apartment,
        ),
        stay=None,
        locality_type=p.locality_type,
        employment=None,
        diagnosis=p.diagnosis,
        purpose=p.purpose,
        care_form=p.care_form,
        care_kind=p.care_kind,
        care_conditions=p.care_conditions,
        justification=p.justification,
        referrer_position=p.referrer_position,
        referrer_name=p.referrer_name,
        cito=p.cito,
    )


def referral_job(p: ReferralPrint) -> PrintJob:
    """Render the form (a duplicate when it was printed before); runs in the I/O lane."""
    pdf = render_referral_057(referral_form(p), PrintOptions(duplicate=p.copy_no > 1))
    return PrintJob(
        patient_id=p.patient_id,
        form="057/у",
        title=f"Направление 057/у № {p.number}",
        object_type="referral",
        object_id=p.referral_id,
        emk_document_id=p.document_id,
        copy_no=p.copy_no,
        pdf=pdf,
    )
