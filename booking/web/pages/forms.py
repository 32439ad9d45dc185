"""Reading the learners' forms: the posted strings become what a service takes, and input that
can be refused before any service is asked (too long, missing) becomes a message on its field.

The administrators' session form has its own modules (`session_form.py`, `session_input.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from booking.bookings import BookingRequest
from booking.db_values import max_length_of
from booking.kernel.errors import InvalidError
from booking.kernel.views import MoneyView
from booking.models import Booking

MAX_QUERY_LENGTH = 200
# As long as the column keeps (booking/db_values.py checks it for every way in).
MAX_SPECIAL_REQUIREMENTS = max_length_of(Booking.__table__.c.special_requirements.type) or 2000
MAX_REASON_LENGTH = 500
MAX_UPLOAD = 5_000_000


async def form_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted form's text fields (files are read on their own)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def whole_number(value: str) -> int | None:
    """A number typed or chosen on a form (as Python reads one), or None."""
    try:
        return int(value)
    except ValueError:
        return None


def search_query(q: str | None) -> str:
    return (q or "").strip()[:MAX_QUERY_LENGTH]


def page_cursor(value: str | None) -> int | None:
    """A page's `cursor` link parameter; anything but a whole number starts from the top."""
    try:
        cursor = int(value) if value else None
    except ValueError:
        return None
    return cursor if cursor is not None and cursor >= 0 else None


# ---------------------------------------------------------------------------------------------
# Booking a place


def _answers(form: dict[str, str]) -> dict[str, object]:
    answers: dict[str, object] = {
        key.removeprefix("answer_"): value.strip()
        for key, value in form.items()
        if key.startswith("answer_") and value.strip()
    }
    # Yes/no questions come from radio buttons named yesno_<id>.
    answers.update(
        {
            key.removeprefix("yesno_"): value == "yes"
            for key, value in form.items()
            if key.startswith("yesno_") and value in ("yes", "no")
        }
    )
    return answers


@dataclass(frozen=True, slots=True)
class BookForm:
    """The booking form as sent: the learner's answers, terms, cost code and the place to move."""

    special_requirements: str | None
    answers: dict[str, object]
    accept_terms: bool
    cost_code: str | None
    move_from: int | None

    @classmethod
    def read(cls, form: dict[str, str]) -> BookForm:
        move_from = form.get("move_from", "")
        return cls(
            special_requirements=form.get("special_requirements", "").strip() or None,
            answers=_answers(form),
            accept_terms=form.get("accept_terms") == "yes",
            cost_code=form.get("cost_code", "").strip() or None,
            move_from=int(move_from) if move_from.isascii() and move_from.isdigit() else None,
        )

    def field_errors(self) -> dict[str, str]:
        special = self.special_requirements
        if special is not None and len(special) > MAX_SPECIAL_REQUIREMENTS:
            return {"special_requirements": "Special requirements are limited to 2,000 characters."}
        return {}

    def booking_request(self, session_id: int) -> BookingRequest:
        return BookingRequest(
            session_id,
            cost_code=self.cost_code,
            special_requirements=self.special_requirements,
            answers=self.answers or None,
            accept_terms=self.accept_terms,
            move_from=self.move_from,
        )

    def as_shown(self) -> dict[str, Any]:
        """The form filled in again, as it was sent."""
        return {
            "special_requirements": self.special_requirements,
            "answers": self.answers,
            "accept_terms": self.accept_terms,
            "cost_code": self.cost_code,
        }


# ---------------------------------------------------------------------------------------------
# Cancelling a booking


@dataclass(slots=True)
class CancelForm:
    reason: str
    details: str | None
    # The fee the page showed is the fee charged: if it has changed since, the service says so.
    quoted_fee: MoneyView | None
    field_errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, form: dict[str, str]) -> CancelForm:
        reason = form.get("reason", "").strip()
        quoted = None
        amount = form.get("quoted_fee_amount", "")
        # ASCII digits only: "²".isdigit() is true, and int("²") fails.
        if amount.isascii() and amount.isdigit() and form.get("quoted_fee_currency"):
            quoted = MoneyView(int(form["quoted_fee_amount"]), form["quoted_fee_currency"])
        sent = cls(reason, form.get("details", "").strip() or None, quoted)
        if not reason:
            sent.field_errors["reason"] = "Choose a reason for cancelling."
        elif len(reason) > MAX_REASON_LENGTH:
            sent.field_errors["reason"] = "The reason is limited to 500 characters."
        return sent

    def refused(self, exc: InvalidError) -> None:
        self.field_errors[exc.field if exc.field in ("reason", "details") else "reason"] = (
            exc.detail
        )

    def as_shown(self) -> dict[str, str]:
        return {"reason": self.reason, "details": self.details or ""}


# ---------------------------------------------------------------------------------------------
# Uploads


async def csv_upload_text(request: Request[Any, Any, Any], limit: int = MAX_UPLOAD) -> str:
    """The uploaded CSV file's text; refused (on the `file` field) if missing, larger than
    `limit` bytes or not UTF-8."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidError("Choose a CSV file to import.", "file")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidError(f"The file is larger than {limit // 1_000_000} MB; split it.", "file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidError("The file must be UTF-8 text (save it as CSV UTF-8).", "file") from None
