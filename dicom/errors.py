"""Every failure of the PACS client, the study cache and the reader, as typed errors.

Why a hierarchy of its own rather than ``services.errors``: ``dicom/`` and ``services/`` are
sibling layers (import-linter forbids one importing the other).  The shape is the same as
:class:`services.errors.ArmError`'s so the one presenter in ``arm/errors.py`` can treat both
alike: ``str(exc)`` is a finished Russian message, ``transient`` says whether «Повторить»
may help.  Messages never carry patient names or identifiers — they end up in logs and
support tickets.
"""

from __future__ import annotations

__all__ = [
    "AssociationRejected",
    "CacheError",
    "ConfigError",
    "CorruptInstance",
    "DicomError",
    "ImportFailed",
    "PacsTimeout",
    "PacsUnavailable",
    "ReadError",
    "RetrieveCancelled",
    "RetrieveFailed",
    "TransferInterrupted",
    "UnknownCalledAE",
    "UnknownCallingAE",
    "UnsupportedInstance",
    "rejection",
]


class DicomError(Exception):
    """Base of every expected failure in ``dicom/``; ``str()`` is shown to the user."""

    #: A failure that a retry may fix (the PACS was down, the network dropped).
    transient: bool = False


class ConfigError(DicomError):
    """The site's DICOM settings are wrong; names the setting and the rule it breaks."""

    def __init__(self, key: str, rule: str) -> None:
        self.key = key
        self.rule = rule
        super().__init__(f"Настройки DICOM, {key}: {rule}")


# --- network --------------------------------------------------------------------------------
class PacsUnavailable(DicomError):
    """The PACS did not accept a TCP connection (down, wrong host/port, firewall)."""

    transient = True

    def __init__(self, pacs: str, detail: str = "") -> None:
        self.pacs = pacs
        self.detail = detail
        msg = f"PACS «{pacs}» — нет связи"
        super().__init__(f"{msg} ({detail})" if detail else msg)


class PacsTimeout(DicomError):
    """The PACS stopped answering within the configured timeout."""

    transient = True

    def __init__(self, pacs: str, what: str = "") -> None:
        self.pacs = pacs
        self.what = what
        msg = f"PACS «{pacs}» не отвечает"
        super().__init__(f"{msg} ({what})" if what else msg)


class AssociationRejected(DicomError):
    """The PACS refused the association (A-ASSOCIATE-RJ); ``reason`` says why, in words.

    ``result`` 1 is a permanent rejection, 2 a transient one (busy, too many associations);
    ``source`` and ``diagnostic`` are the PS3.8 9.3.4 codes, kept for the log.
    """

    def __init__(
        self, pacs: str, reason: str, *, result: int = 1, source: int = 1, diagnostic: int = 1
    ) -> None:
        self.pacs = pacs
        self.reason = reason
        self.result = result
        self.source = source
        self.diagnostic = diagnostic
        self.transient = result == 2
        super().__init__(f"PACS «{pacs}» отклонил подключение: {reason}")


class UnknownCalledAE(AssociationRejected):
    """The PACS does not know the AE title we called: the site's PACS settings are wrong."""


class UnknownCallingAE(AssociationRejected):
    """The PACS does not know this workstation's AE title: it must be registered there."""


_REJECT_REASONS = {
    (1, 1): "без объяснения причины",
    (1, 2): "не поддерживается контекст приложения",
    (1, 3): "AE title рабочего места не зарегистрирован в PACS",
    (1, 7): "PACS не знает вызываемый AE title — проверьте настройки",
    (2, 1): "без объяснения причины",
    (2, 2): "не поддерживается версия протокола",
    (3, 1): "PACS перегружен, повторите позже",
    (3, 2): "превышен предел одновременных подключений PACS",
}


def rejection(pacs: str, result: int, source: int, reason: int) -> AssociationRejected:
    """The typed error for an A-ASSOCIATE-RJ (PS3.8 9.3.4), its reason put in words."""
    words = _REJECT_REASONS.get((source, reason), f"причина {source}/{reason}")
    cls = {(1, 7): UnknownCalledAE, (1, 3): UnknownCallingAE}.get((source, reason))
    return (cls or AssociationRejected)(
        pacs, words, result=result, source=source, diagnostic=reason
    )


class TransferInterrupted(DicomError):
    """The PACS went away (abort, reset, close) in the middle of a retrieval.

    What arrived is kept in the cache and the study is marked incomplete; a retry fetches
    only the missing instances.
    """

    transient = True

    def __init__(self, pacs: str, received: int, expected: int, detail: str = "") -> None:
        self.pacs = pacs
        self.received = received
        self.expected = expected
        self.detail = detail
        super().__init__(
            f"Связь с PACS «{pacs}» прервалась: получено {received} из {expected} изображений; "
            "исследование сохранено не полностью, «Повторить» докачает недостающее"
        )


class RetrieveFailed(DicomError):
    """The PACS answered the retrieve with a failure status (PS3.4 C.4.2/C.4.3)."""

    def __init__(self, pacs: str, status: int, reason: str) -> None:
        self.pacs = pacs
        self.status = status
        self.reason = reason
        super().__init__(f"PACS «{pacs}» не выдал исследование: {reason} (0x{status:04X})")


class RetrieveCancelled(DicomError):
    """The user cancelled a retrieval; shown to nobody (like ``services.errors.Cancelled``)."""

    def __init__(self) -> None:
        super().__init__("Операция отменена")


# --- cache and import -----------------------------------------------------------------------
class CacheError(DicomError):
    """The local study cache cannot do what was asked (study absent, disk full, …)."""


class ImportFailed(DicomError):
    """Nothing DICOM could be imported from the folder or DICOMDIR the user picked."""


# --- reading for the viewer -----------------------------------------------------------------
class ReadError(DicomError):
    """An instance cannot be shown; the viewer paints an error tile with ``str(exc)``."""


class CorruptInstance(ReadError):
    """The file is not valid DICOM, is truncated, or its pixel data do not match its header."""


class UnsupportedInstance(ReadError):
    """Valid DICOM we cannot show: no pixel data, an unknown compression, odd geometry."""
