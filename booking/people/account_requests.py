"""Asking for an account: the public form's request and the emailed link that confirms it.

The answer never says whether the address already has an account: the form's page reads the
same either way, and the email is what differs (someone with an active account is told so, and
how to sign in, instead of a request being made). A request joins the administrators' queue only
once its link is opened, so nobody can queue requests for an address they do not read. One open
request per address (a partial unique index): sending the form again while the first is still
unconfirmed refreshes it and sends a new link."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import signing
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.errors import InvalidError, NotFoundError
from booking.kernel.outbox import queue_email
from booking.models import AccountRequest, OrgUnit, Person
from booking.people.people import EMAIL, STAFF_TYPES

STATES = ("unconfirmed", "waiting", "approved", "declined")
ACCOUNT_REQUEST_STATES = STATES
CONFIRM_PURPOSE = "account-request"
CONFIRM_LIFETIME = timedelta(days=3)
# The queue's "unconfirmed" view leaves out requests older than this: their link has long
# expired and the requester can send the form again.
UNCONFIRMED_SHOWN_FOR = timedelta(days=7)
LIMITS = {
    "name": 200,
    "email": 320,
    "organisation": 200,
    "org_unit_text": 200,
    "job_role": 200,
    "manager_email": 320,
    "reason": 2000,
}
REQUIRED = {
    "name": "Enter your full name.",
    "email": "Enter your email address.",
    "organisation": "Enter the organisation you work for.",
    "job_role": "Enter your job role.",
    "reason": "Say why you need an account, such as the training you have been asked to do.",
}


@dataclass(frozen=True, slots=True)
class AccountRequestInput:
    """The public form as sent. `org_unit_id` is a unit chosen from the list (its id as text);
    `org_unit_text` is what they typed when theirs was not listed."""

    name: str = ""
    email: str = ""
    organisation: str = ""
    org_unit_id: str = ""
    org_unit_text: str = ""
    job_role: str = ""
    staff_type: str = ""
    manager_email: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class UnitChoice:
    id: int
    name: str
    code: str


def account_request_errors(sent: AccountRequestInput) -> dict[str, str]:
    """Every problem with the form at once, by field (empty when it can be sent)."""
    errors: dict[str, str] = {}
    for name, message in REQUIRED.items():
        if not getattr(sent, name).strip():
            errors[name] = message
    for name, limit in LIMITS.items():
        value = getattr(sent, name)
        if name not in errors and len(value) > limit:
            errors[name] = f"Keep this to {limit:,} characters or fewer."
        elif any(_control(c, lines_allowed=name == "reason") for c in value):
            errors[name] = "Remove the line break or control character."
    for name in ("email", "manager_email"):
        value = getattr(sent, name).strip()
        if name not in errors and value and not EMAIL.match(value):
            errors[name] = "Enter an email address like name@example.org."
    if "email" not in errors and sent.manager_email.strip().lower() == sent.email.strip().lower():
        errors["manager_email"] = "Enter your manager’s email address, not your own."
    if sent.staff_type not in STAFF_TYPES:
        errors["staff_type"] = "Choose the kind of staff you are."
    if sent.org_unit_id and not (sent.org_unit_id.isascii() and sent.org_unit_id.isdigit()):
        errors["org_unit_id"] = "Choose your unit from the list, or type it below."
    return errors


def _control(c: str, *, lines_allowed: bool) -> bool:
    if lines_allowed and c in "\r\n\t":
        return False
    return ord(c) < 32 or ord(c) == 127


async def account_request_units(db: Database) -> list[UnitChoice]:
    """The units the form offers, by name."""
    async with db.reading() as s:
        rows = await s.execute(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.code).order_by(OrgUnit.name)
        )
        return [UnitChoice(*row) for row in rows]


async def request_account(
    db: Database, clock: Clock, settings: Settings, sent: AccountRequestInput, *, ip: str | None
) -> None:
    """Make (or refresh) an unconfirmed request and email its confirmation link; or, when the
    address has an active account, email them that. The caller answers the same either way."""
    errors = account_request_errors(sent)
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidError(message, field)
    work = partial(_request_account, clock=clock, settings=settings, sent=sent, ip=ip)
    try:
        await tx.run(db, work)
    except IntegrityError:
        # The same address sent twice at once: the other request stands, with its own link.
        return


async def _request_account(
    s: AsyncSession, *, clock: Clock, settings: Settings, sent: AccountRequestInput, ip: str | None
) -> None:
    now = clock.now()
    email = sent.email.strip().lower()
    person = await s.scalar(select(Person).where(Person.email == email))
    if person is not None and person.active:
        await _tell_existing_account(s, settings, person, now=now, ip=ip)
        return
    request = await s.scalar(
        select(AccountRequest)
        .where(AccountRequest.email == email, AccountRequest.state.in_(("unconfirmed", "waiting")))
        .with_for_update()
    )
    if request is not None and request.state == "waiting":
        # Already confirmed and in the queue: nothing new to send.
        await audit.record(
            s, action="account_request.repeated", now=now, actor_label=email, ip=ip, target=email
        )
        return
    unit_id = await _unit_id(s, sent.org_unit_id)
    values = _values(sent, email, unit_id)
    if request is None:
        request = AccountRequest(**values, state="unconfirmed", created_at=now)
        s.add(request)
        await s.flush()
    else:
        for key, value in values.items():
            setattr(request, key, value)
        request.created_at = now
    await _send_confirmation(s, settings, request, now=now)
    await audit.record(
        s,
        action="account_request.submitted",
        now=now,
        actor_label=email,
        ip=ip,
        target=email,
        details={"request_id": request.id},
    )


def _values(sent: AccountRequestInput, email: str, unit_id: int | None) -> dict[str, object]:
    return {
        "email": email,
        "name": " ".join(sent.name.split()),
        "organisation": sent.organisation.strip(),
        "org_unit_id": unit_id,
        "org_unit_text": None if unit_id else (sent.org_unit_text.strip() or None),
        "job_role": sent.job_role.strip(),
        "staff_type": sent.staff_type,
        "manager_email": sent.manager_email.strip().lower() or None,
        "reason": sent.reason.strip(),
    }


async def _unit_id(s: AsyncSession, chosen: str) -> int | None:
    if not chosen:
        return None
    unit_id = int(chosen) if len(chosen) < 19 else 0
    if unit_id <= 0 or await s.get(OrgUnit, unit_id) is None:
        raise InvalidError("Choose your unit from the list, or type it below.", "org_unit_id")
    return unit_id


def confirmation_token(settings: Settings, request_id: int, email: str, *, now: datetime) -> str:
    """The signed token of a request's confirmation link (the demo confirms its requests with
    it, as a requester's click would)."""
    return signing.sign(
        settings.secret_key, CONFIRM_PURPOSE, {"r": request_id, "e": email}, now + CONFIRM_LIFETIME
    )


async def _send_confirmation(
    s: AsyncSession, settings: Settings, request: AccountRequest, *, now: datetime
) -> None:
    token = confirmation_token(settings, request.id, request.email, now=now)
    await queue_email(
        s,
        topic="account.request_confirm",
        recipient_id=None,
        booking_id=None,
        session_id=None,
        now=now,
        dedupe_key=f"account.request_confirm:{request.id}:{uuid.uuid4()}",
        payload={
            "to_email": request.email,
            "to_name": request.name,
            "link": f"{settings.base_url}/account-request/confirm?token={token}",
            "link_label": "Confirm your email address",
            "expires_days": CONFIRM_LIFETIME.days,
        },
    )


async def _tell_existing_account(
    s: AsyncSession, settings: Settings, person: Person, *, now: datetime, ip: str | None
) -> None:
    await queue_email(
        s,
        topic="account.exists",
        recipient_id=person.id,
        booking_id=None,
        session_id=None,
        now=now,
        dedupe_key=f"account.exists:{person.id}:{uuid.uuid4()}",
        payload={
            "link": f"{settings.base_url}/login",
            "link_label": "Sign in",
            "forgot": f"{settings.base_url}/password/forgot",
        },
    )
    await audit.record(
        s,
        action="account_request.existing_account",
        now=now,
        actor_label=person.email,
        ip=ip,
        target=person.email,
    )


async def confirm_account_request(
    db: Database, clock: Clock, settings: Settings, token: str, *, ip: str | None
) -> str:
    """Open the emailed link: the request joins the queue. The answer is the request's state
    afterwards ("waiting" for a first or repeated confirmation, else its decision)."""
    now = clock.now()
    try:
        data = signing.verify(settings.secret_key, CONFIRM_PURPOSE, token, now)
    except signing.BadSignature as exc:
        raise NotFoundError(f"{exc} Send the account request form again for a new link.") from exc
    return await tx.run(db, partial(_confirm, clock=clock, data=data, ip=ip))


async def _confirm(
    s: AsyncSession, *, clock: Clock, data: dict[str, object], ip: str | None
) -> str:
    request = await s.scalar(
        select(AccountRequest).where(AccountRequest.id == data.get("r")).with_for_update()
    )
    if request is None or request.email != data.get("e"):
        raise NotFoundError("This link is not valid. Send the account request form again.")
    if request.state != "unconfirmed":
        return request.state
    now = clock.now()
    request.state = "waiting"
    request.confirmed_at = now
    await audit.record(
        s,
        action="account_request.confirmed",
        now=now,
        actor_label=request.email,
        ip=ip,
        target=request.email,
        details={"request_id": request.id},
    )
    return request.state
