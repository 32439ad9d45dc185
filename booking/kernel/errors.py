"""What a use case can refuse with; the web layer turns each into a problem+json or a form error."""

from __future__ import annotations

from booking.domain.reasons import Reason, status_for


class ServiceError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ServiceError):
    status = 404
    title = "Not found"


class ForbiddenError(ServiceError):
    status = 403
    title = "Not allowed"


class ConflictError(ServiceError):
    status = 409
    title = "Conflict"


class TooLargeError(ServiceError):
    """An upload larger than its limit (413)."""

    status = 413
    title = "Too large"


class InvalidError(ServiceError):
    """Valid JSON that breaks a rule (422); `field` names the input at fault."""

    status = 422
    title = "Invalid input"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class RefusedError(ServiceError):
    """A booking (or its change) refused, with every reason."""

    title = "Booking refused"

    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__(" ".join(r.message for r in reasons))
        self.reasons = reasons
        self.status = status_for(reasons)
