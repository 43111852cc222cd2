"""Which storage presentation contexts a C-GET proposes, per series.

A PACS sends an instance as it is stored unless it can transcode — Orthanc 1.10 cannot
transcode a stored JPEG 2000 for C-GET (DICOM.md) — and it may only use a context we proposed.
So each compressed transfer syntax gets *its own* context (a context with several syntaxes
yields one accepted syntax, usually the uncompressed one, and the compressed instances then
have nowhere to go), and the SOP classes are chosen per series: exactly those the IMAGE-level
listing names when we have it, else the ones the series' modality makes likely.  One
association may carry at most 128 contexts, so the list is trimmed by rarity when needed.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.uid import UID

from dicom._ul import ProposedContext

__all__ = [
    "COMPRESSED",
    "FIND_PATIENT_MODEL",
    "FIND_STUDY_MODEL",
    "GET_MODEL",
    "MOVE_MODEL",
    "UNCOMPRESSED",
    "VERIFICATION",
    "get_contexts",
    "likely_sop_classes",
]

VERIFICATION = "1.2.840.10008.1.1"
FIND_PATIENT_MODEL = "1.2.840.10008.5.1.4.1.2.1.1"  # Patient Root Q/R Information Model - FIND
FIND_STUDY_MODEL = "1.2.840.10008.5.1.4.1.2.2.1"  # Study Root Q/R Information Model - FIND
GET_MODEL = "1.2.840.10008.5.1.4.1.2.2.3"  # Study Root Q/R Information Model - GET
MOVE_MODEL = "1.2.840.10008.5.1.4.1.2.2.2"  # Study Root Q/R Information Model - MOVE
IMPLICIT_LE = "1.2.840.10008.1.2"
UNCOMPRESSED = ("1.2.840.10008.1.2.1", IMPLICIT_LE)  # Explicit VR LE first: keeps VRs

#: Ordered most to least common in Russian PACS archives; trimmed from the end when needed.
COMPRESSED = (
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless, first-order prediction (SV1)
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.50",  # JPEG baseline (8-bit)
    "1.2.840.10008.1.2.5",  # RLE lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless (process 14)
    "1.2.840.10008.1.2.4.80",  # JPEG-LS lossless
    "1.2.840.10008.1.2.4.51",  # JPEG extended (12-bit)
    "1.2.840.10008.1.2.4.81",  # JPEG-LS near-lossless
)

_CT, _ECT = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1"
_MR, _EMR = "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.4.1"
_SC = "1.2.840.10008.5.1.4.1.1.7"
_GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"
_SR = (
    "1.2.840.10008.5.1.4.1.1.88.11",
    "1.2.840.10008.5.1.4.1.1.88.22",
    "1.2.840.10008.5.1.4.1.1.88.33",
)
_KO = "1.2.840.10008.5.1.4.1.1.88.59"
_PDF = "1.2.840.10008.5.1.4.1.1.104.1"

_BY_MODALITY: dict[str, tuple[str, ...]] = {
    "CT": (_CT, _ECT, _SC, _GSPS, _DOSE_SR),
    "MR": (_MR, _EMR, _SC, _GSPS),
    "CR": ("1.2.840.10008.5.1.4.1.1.1", _SC, _GSPS),
    "DX": ("1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1.1", _SC, _GSPS),
    "MG": (
        "1.2.840.10008.5.1.4.1.1.1.2",
        "1.2.840.10008.5.1.4.1.1.1.2.1",
        "1.2.840.10008.5.1.4.1.1.13.1.3",
        _GSPS,
    ),
    "IO": ("1.2.840.10008.5.1.4.1.1.1.3",),
    "US": ("1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.3.1", _SC),
    "XA": ("1.2.840.10008.5.1.4.1.1.12.1", "1.2.840.10008.5.1.4.1.1.12.1.1", _SC, _DOSE_SR),
    "RF": ("1.2.840.10008.5.1.4.1.1.12.2", _SC, _DOSE_SR),
    "NM": ("1.2.840.10008.5.1.4.1.1.20", _SC),
    "PT": ("1.2.840.10008.5.1.4.1.1.128", "1.2.840.10008.5.1.4.1.1.130", _SC),
    "OT": (
        _SC,
        "1.2.840.10008.5.1.4.1.1.7.2",
        "1.2.840.10008.5.1.4.1.1.7.3",
        "1.2.840.10008.5.1.4.1.1.7.4",
    ),
    "SC": (_SC,),
    "XC": ("1.2.840.10008.5.1.4.1.1.77.1.4",),
    "SR": (*_SR, _DOSE_SR),
    "KO": (_KO,),
    "PR": (_GSPS,),
    "DOC": (_PDF,),
    "SEG": ("1.2.840.10008.5.1.4.1.1.66.4",),
}
_FALLBACK = (_CT, _MR, "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1", _SC, *_SR, _KO)


def likely_sop_classes(modality: str) -> tuple[str, ...]:
    """SOP classes a series of this modality usually holds (its images, SC, dose SR, GSPS)."""
    return _BY_MODALITY.get(modality.upper(), _FALLBACK)


def _is_image(sop_class: str) -> bool:
    name = UID(sop_class).name
    return "Image" in name and "Storage" in name


def get_contexts(sop_classes: Iterable[str], model: str = GET_MODEL) -> list[ProposedContext]:
    """The Q/R model context plus storage contexts (SCP role) for ``sop_classes``.

    Image classes get the uncompressed context and one context per compressed syntax;
    other classes (SR, presentation states, PDF) only the uncompressed one.
    """
    classes = list(dict.fromkeys(c for c in sop_classes if c))
    images = [c for c in classes if _is_image(c)]
    others = [c for c in classes if c not in images]
    budget = 127 - len(classes)  # one uncompressed context each, one for the Q/R model
    n_compressed = len(COMPRESSED)
    while images and n_compressed and len(images) * n_compressed > budget:
        n_compressed -= 1
    out = [ProposedContext(model, (IMPLICIT_LE,))]
    for c in images:
        out.append(ProposedContext(c, UNCOMPRESSED, scp_role=True))
        out.extend(ProposedContext(c, (ts,), scp_role=True) for ts in COMPRESSED[:n_compressed])
    out.extend(ProposedContext(c, UNCOMPRESSED, scp_role=True) for c in others)
    return out[:128]
