"""One error hierarchy for the whole application.

Every failure a user can meet is an :class:`ArmError` whose ``str()`` is a finished Russian
message: the presenter in ``arm/errors.py`` shows it as is, so services never return codes that
a widget has to translate.  Anything that is *not* an ``ArmError`` is a bug and is shown with
"Copy details" and logged with its traceback.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "ArmError",
    "Cancelled",
    "ConflictError",
    "NotFoundError",
    "PeerUnavailable",
    "ValidationError",
    "ValidationErrors",
]


class ArmError(Exception):
    """Base of every expected, user-presentable failure."""

    #: A transient failure (network, peer down) that a "Повторить" button may fix.
    transient: bool = False


class ValidationError(ArmError):
    """Input broke a rule; names the field and the rule, both in Russian.

    ``field`` is the label the user sees («СНИЛС»), ``rule`` the broken rule
    («неверная контрольная сумма»); ``key`` is the programmatic field name so a form can put
    the message under the right widget.
    """

    def __init__(self, field: str, rule: str, *, key: str = "") -> None:
        self.field = field
        self.rule = rule
        self.key = key
        super().__init__(f"{field}: {rule}")


class ValidationErrors(ArmError):
    """Several fields failed at once; a form shows each under its field."""

    def __init__(self, errors: list[ValidationError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class ConflictError(ArmError):
    """Someone else changed or took the same record (stale version, slot already booked)."""


class NotFoundError(ArmError):
    """The record asked for does not exist (any more)."""


class PeerUnavailable(ArmError):
    """A server we depend on (database, PACS, SMS gateway, card reader) did not answer."""

    transient = True

    def __init__(self, peer: str, detail: str = "") -> None:
        self.peer = peer
        self.detail = detail
        # "<peer> — нет связи" reads right whatever the peer's grammatical gender.
        msg = f"{peer} — нет связи"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class AccessDenied(ArmError):
    """The signed-in staff member may not do this."""


class Cancelled(ArmError):
    """The user cancelled a long operation; shown to nobody."""

    def __init__(self) -> None:
        super().__init__("Операция отменена")
