"""The child-access application as a print job: the service's data onto the printed form.

It lives here, in the layer that sees both: ``services`` knows the family, ``printing`` knows
the paper, and neither imports the other.
"""

from __future__ import annotations

from printing.child_access_application import (
    ChildAccessApplication,
    render_child_access_application,
)
from printing.page import PrintOptions
from services.child_access import APPLICATION, ApplicationPrint
from services.printouts import PrintJob

__all__ = ["application_job"]


def application_job(p: ApplicationPrint) -> PrintJob:
    """Render the application (a reprint is marked «Дубликат»); runs in the I/O lane."""
    form = ChildAccessApplication(
        organisation=p.organisation,
        organisation_address=p.organisation_address,
        child_name=p.child_name,
        child_birth_date=p.child_birth_date,
        child_policy=p.child_policy,
        relative_name=p.relative_name,
        relative_birth_date=p.relative_birth_date,
        relation_label=p.relation_label,
        phone=p.phone,
        address=p.address,
        date=p.date,
        ends_on=p.ends_on,
    )
    pdf = render_child_access_application(form, PrintOptions(duplicate=p.copy_no > 1))
    return PrintJob(
        patient_id=p.child_id,
        form="Заявка на доступ к ЭМК ребенка",
        title=f"Заявка на доступ к ЭМК ребенка — {p.relative_name}",
        object_type=APPLICATION,
        object_id=p.relation_id,
        emk_document_id=None,
        copy_no=p.copy_no,
        pdf=pdf,
    )
