"""The administrators' queue of account requests: the list by state, approving (which makes the
person, through the people upsert, and emails them how to sign in) and declining with a reason.

Deciding locks the request's row first, so two administrators approving at once make one
person: the second waits for the first to commit, then finds the request decided."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking import policy
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, NotFoundError
from booking.kernel.outbox import queue_email
from booking.models import AccountRequest, OrgUnit, Person
from booking.people.account_requests import STATES, UNCONFIRMED_SHOWN_FOR
from booking.people.auth import set_password_link
from booking.people.people import PersonInput, clean_person, write_people
from booking.people.roles import clean_reason

QUEUE_LIMIT = 100
# How long the emailed set-your-password link of a new account works.
WELCOME_LINK_LIFETIME = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class AccountRequestRow:
    id: int
    name: str
    email: str
    organisation: str
    unit: str | None
    unit_typed: bool
    job_role: str
    staff_type: str
    manager_email: str | None
    reason: str
    state: str
    created_at: datetime
    confirmed_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decline_reason: str | None
    person_id: int | None


@dataclass(frozen=True, slots=True)
class AccountRequestQueue:
    state: str
    rows: list[AccountRequestRow]
    counts: dict[str, int]
    # More than QUEUE_LIMIT in this state: the oldest waiting (or newest decided) are shown.
    more: bool


@dataclass(frozen=True, slots=True)
class Approved:
    person_id: int
    name: str
    # The manager they named has no account here: the person was made without one.
    manager_unknown: str | None


def _only_administrators(actor: Actor) -> None:
    if not policy.can_decide_account_requests(actor):
        raise ForbiddenError("Only administrators can see and decide account requests.")


async def account_request_queue(
    db: Database, clock: Clock, actor: Actor, state: str = "waiting"
) -> AccountRequestQueue:
    """Requests in one state (waiting: oldest first; decided: newest first), with how many
    are in each state. Unconfirmed requests older than a week are left out."""
    _only_administrators(actor)
    state = state if state in STATES else "waiting"
    stale = clock.now() - UNCONFIRMED_SHOWN_FOR
    shown = ~((AccountRequest.state == "unconfirmed") & (AccountRequest.created_at < stale))
    decider = aliased(Person)
    order = (
        AccountRequest.created_at.asc()
        if state in ("waiting", "unconfirmed")
        else AccountRequest.decided_at.desc()
    )
    async with db.reading() as s:
        counts = dict(
            (
                await s.execute(
                    select(AccountRequest.state, func.count())
                    .where(shown)
                    .group_by(AccountRequest.state)
                )
            ).all()
        )
        found = await s.execute(
            select(AccountRequest, OrgUnit.name, decider.name)
            .outerjoin(OrgUnit, OrgUnit.id == AccountRequest.org_unit_id)
            .outerjoin(decider, decider.id == AccountRequest.decided_by_id)
            .where(AccountRequest.state == state, shown)
            .order_by(order, AccountRequest.id)
            .limit(QUEUE_LIMIT + 1)
        )
        rows = [_row(r, unit, by) for r, unit, by in found.all()]
    return AccountRequestQueue(
        state=state,
        rows=rows[:QUEUE_LIMIT],
        counts={s: counts.get(s, 0) for s in STATES},
        more=len(rows) > QUEUE_LIMIT,
    )


def _row(r: AccountRequest, unit: str | None, decided_by: str | None) -> AccountRequestRow:
    return AccountRequestRow(
        id=r.id,
        name=r.name,
        email=r.email,
        organisation=r.organisation,
        unit=unit or r.org_unit_text,
        unit_typed=unit is None and r.org_unit_text is not None,
        job_role=r.job_role,
        staff_type=r.staff_type,
        manager_email=r.manager_email,
        reason=r.reason,
        state=r.state,
        created_at=r.created_at,
        confirmed_at=r.confirmed_at,
        decided_at=r.decided_at,
        decided_by=decided_by,
        decline_reason=r.decline_reason,
        person_id=r.person_id,
    )


async def count_waiting_account_requests(db: Database, actor: Actor) -> int:
    """How many confirmed requests wait for a decision (the administration page shows it)."""
    _only_administrators(actor)
    async with db.reading() as s:
        count = select(func.count()).where(AccountRequest.state == "waiting")
        return int(await s.scalar(count) or 0)


async def _locked_waiting(s: AsyncSession, request_id: int) -> AccountRequest:
    """The request, locked, if it still waits for a decision."""
    request = await s.scalar(
        select(AccountRequest).where(AccountRequest.id == request_id).with_for_update()
    )
    if request is None:
        raise NotFoundError(f"There is no account request {request_id}.")
    if request.state == "unconfirmed":
        raise ConflictError(
            f"{request.name} has not confirmed their email address yet: it can be decided "
            "once they have."
        )
    if request.state != "waiting":
        who = await s.scalar(select(Person.name).where(Person.id == request.decided_by_id))
        raise ConflictError(
            f"This request was already {request.state}"
            + (f" by {who}" if who else "")
            + ": nothing was changed."
        )
    return request


async def approve_account_request(
    db: Database, clock: Clock, settings: Settings, actor: Actor, request_id: int, *, sso: bool
) -> Approved:
    """Make the person (unit, job role, staff type, manager) and email them how to sign in: a
    set-your-password link, or with single sign-on, to sign in with their organisation account."""
    _only_administrators(actor)
    work = partial(
        _approve, clock=clock, settings=settings, actor=actor, request_id=request_id, sso=sso
    )
    return await tx.run(db, work)


async def _approve(
    s: AsyncSession,
    *,
    clock: Clock,
    settings: Settings,
    actor: Actor,
    request_id: int,
    sso: bool,
) -> Approved:
    request = await _locked_waiting(s, request_id)
    now = clock.now()
    existing = await s.scalar(select(Person).where(Person.email == request.email))
    if existing is not None:
        state = "an active" if existing.active else "a deactivated"
        raise ConflictError(
            f"{request.email} already has {state} account ({existing.name}): nothing was "
            "changed. Decline this request, or reactivate them on their page."
        )
    unit_code = await s.scalar(select(OrgUnit.code).where(OrgUnit.id == request.org_unit_id))
    manager = request.manager_email
    if manager and await s.scalar(select(Person.id).where(Person.email == manager)) is None:
        manager = None
    wanted = PersonInput(
        email=request.email,
        name=request.name,
        manager_email=manager,
        org_unit=unit_code,
        job_role=request.job_role,
        staff_type=request.staff_type,
    )
    [made] = await write_people(s, clock=clock, actor=actor, cleaned=[clean_person(0, wanted)])
    request.state = "approved"
    request.decided_at = now
    request.decided_by_id = actor.person_id
    request.person_id = made.id
    await _send_welcome(s, settings, made.id, sso=sso, now=now)
    await audit.record(
        s,
        action="account_request.approved",
        now=now,
        actor=actor,
        target=request.email,
        details={"request_id": request.id, "person_id": made.id, "sso": sso},
    )
    unknown = request.manager_email if manager is None else None
    return Approved(person_id=made.id, name=request.name, manager_unknown=unknown)


async def _send_welcome(
    s: AsyncSession, settings: Settings, person_id: int, *, sso: bool, now: datetime
) -> None:
    if sso:
        payload: dict[str, object] = {
            "sso": True,
            "link": f"{settings.base_url}/login",
            "link_label": "Sign in",
        }
    else:
        link = set_password_link(s, settings, person_id, now=now, lifetime=WELCOME_LINK_LIFETIME)
        payload = {
            "sso": False,
            "link": link,
            "link_label": "Choose your password",
            "expires_days": WELCOME_LINK_LIFETIME.days,
            "forgot": f"{settings.base_url}/password/forgot",
        }
    await queue_email(
        s,
        topic="account.approved",
        recipient_id=person_id,
        booking_id=None,
        session_id=None,
        now=now,
        dedupe_key=f"account.approved:{person_id}:{uuid.uuid4()}",
        payload=payload,
    )


async def decline_account_request(
    db: Database, clock: Clock, actor: Actor, request_id: int, *, reason: str
) -> None:
    """Decline with a reason, which the requester is emailed."""
    _only_administrators(actor)
    why = clean_reason(reason, "declining the request")
    await tx.run(db, partial(_decline, clock=clock, actor=actor, request_id=request_id, reason=why))


async def _decline(
    s: AsyncSession, *, clock: Clock, actor: Actor, request_id: int, reason: str
) -> None:
    request = await _locked_waiting(s, request_id)
    now = clock.now()
    request.state = "declined"
    request.decided_at = now
    request.decided_by_id = actor.person_id
    request.decline_reason = reason
    await queue_email(
        s,
        topic="account.request_declined",
        recipient_id=None,
        booking_id=None,
        session_id=None,
        now=now,
        dedupe_key=f"account.request_declined:{request.id}",
        payload={"to_email": request.email, "to_name": request.name, "reason": reason},
    )
    await audit.record(
        s,
        action="account_request.declined",
        now=now,
        actor=actor,
        target=request.email,
        details={"request_id": request.id, "reason": reason},
    )
