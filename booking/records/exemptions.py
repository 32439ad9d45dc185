"""Asking for and deciding exemptions and extensions of required learning.

A line manager (directly or up the chain) or an administrator asks, for one person and one or
several courses (one request row per course). The course's owner (`courses.owner_email`, when a
person has that address) or an administrator decides, in the queue or through the signed link
in the email. Every request and decision writes an audit row in its transaction; the emails are
outbox rows in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import people, policy
from booking.clock import Clock
from booking.db import Database
from booking.domain import exemptions as rules
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.kernel.outbox import queue_email
from booking.models import Course, ExemptionRequest, Person
from booking.records.exemption_reads import ExemptionView, exemption_views

MAX_COURSES = 50


@dataclass(frozen=True, slots=True)
class ExemptionInput:
    learner_email: str
    course_codes: Sequence[str]
    kind: str
    reason: str
    until: date | None = None
    due_at: datetime | None = None


async def request_exemptions(
    db: Database, clock: Clock, actor: Actor, data: ExemptionInput
) -> list[ExemptionView]:
    """One pending request per course; the course's owner (or the administrators) told."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people can ask for exemptions.")
    return await tx.run(db, partial(_request, clock=clock, actor=actor, data=data))


async def _request(
    s: AsyncSession, *, clock: Clock, actor: Actor, data: ExemptionInput
) -> list[ExemptionView]:
    now = clock.now()
    learner = await s.scalar(
        select(Person).where(Person.email == data.learner_email.strip().lower())
    )
    if learner is None:
        raise InvalidError(
            f"There is nobody with the email address {data.learner_email}.", "learner_email"
        )
    is_manager = actor.person_id != learner.id and await people.manages(
        s, actor.person_id or 0, learner.id
    )
    if not policy.can_request_exemption(actor, learner.id, manages_learner=is_manager):
        raise ForbiddenError(
            "Only the person's line manager or an administrator can ask for an exemption."
        )
    due_at = data.due_at.astimezone(UTC) if data.due_at else None
    try:
        rules.check_request(data.kind, data.reason, data.until, due_at, now)
    except rules.ExemptionError as exc:
        raise InvalidError(str(exc), exc.field) from None
    courses = await _courses(s, data.course_codes)
    ids = []
    for course in courses:
        row = ExemptionRequest(
            kind=data.kind,
            state="pending",
            learner_id=learner.id,
            course_id=course.id,
            reason=data.reason.strip(),
            until=data.until if data.kind == "exemption" else None,
            due_at=due_at,
            requested_by_id=actor.person_id,
            created_at=now,
        )
        s.add(row)
        await s.flush()
        ids.append(row.id)
        await audit.record(
            s,
            action=f"{data.kind}.requested",
            now=now,
            actor=actor,
            target=f"person {learner.id}",
            details={"request": row.id, "course": course.code, "reason": row.reason},
        )
        await _tell_deciders(s, row, course, learner, now)
    return await exemption_views(s, ids)


async def _courses(s: AsyncSession, codes: Sequence[str]) -> list[Course]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not wanted:
        raise InvalidError("Choose at least one course.", "course_code")
    if len(wanted) > MAX_COURSES:
        raise InvalidError(f"Ask for at most {MAX_COURSES} courses at once.", "course_code")
    found = {c.code: c for c in await s.scalars(select(Course).where(Course.code.in_(wanted)))}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise InvalidError(f"There is no course with code {missing[0]}.", "course_code")
    return [found[c] for c in wanted]


async def _tell_deciders(
    s: AsyncSession, row: ExemptionRequest, course: Course, learner: Person, now: datetime
) -> None:
    """The course's owner when a person has that address; otherwise (no owner, or a team
    mailbox with no account behind it, which cannot sign in to use a link) the
    administrators, who decide in the queue."""
    owner = None
    if course.owner_email:
        owner = await s.scalar(
            select(Person.id).where(
                Person.email == course.owner_email.strip().lower(), Person.active.is_(True)
            )
        )
    deciders = [owner] if owner is not None else await people.active_admin_ids(s)
    for person_id in deciders:
        await queue_email(
            s,
            topic="exemption.requested",
            recipient_id=person_id,
            booking_id=None,
            session_id=None,
            now=now,
            dedupe_key=f"exemption.requested:{row.id}:{person_id}",
            payload=_payload(row, course, learner, as_owner=owner is not None),
        )


def _payload(
    row: ExemptionRequest, course: Course, learner: Person, *, as_owner: bool = False
) -> dict[str, object]:
    return {
        "request_id": row.id,
        "course_id": course.id,
        "kind": row.kind,
        "learner_name": learner.name,
        "learner_email": learner.email,
        "reason": row.reason,
        "until": row.until.isoformat() if row.until else None,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "state": row.state,
        "comment": row.comment,
        "owner_email": course.owner_email,
        "as_owner": as_owner,
    }


async def decide_exemption(
    db: Database,
    clock: Clock,
    actor: Actor,
    request_id: int,
    *,
    decision: str,
    comment: str | None = None,
) -> ExemptionView:
    """Approve or decline a pending request (the course's owner or an administrator; who may
    not is refused before what they sent is read)."""
    work = partial(
        _decide, clock=clock, actor=actor, request_id=request_id, decision=decision, comment=comment
    )
    return await tx.run(db, work)


async def _decide(
    s: AsyncSession,
    *,
    clock: Clock,
    actor: Actor,
    request_id: int,
    decision: str,
    comment: str | None,
) -> ExemptionView:
    now = clock.now()
    row = await s.scalar(
        select(ExemptionRequest)
        .where(ExemptionRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    course = await s.get(Course, row.course_id) if row else None
    if (
        row is None
        or course is None
        or not policy.can_see_exemption(
            actor,
            owner_email=course.owner_email,
            requested_by_id=row.requested_by_id,
            learner_id=row.learner_id,
        )
    ):
        raise NotFoundError(f"There is no exemption request {request_id}.")
    if not policy.can_decide_exemption(actor, course.owner_email):
        raise ForbiddenError("Only the course's owner or an administrator decides this request.")
    if decision not in rules.DECISIONS:
        raise InvalidError("decision must be approve or decline.", "decision")
    comment = (comment or "").strip() or None
    if comment and len(comment) > rules.MAX_COMMENT:
        raise InvalidError("The comment is limited to 1,000 characters.", "comment")
    if row.state != "pending":
        raise ConflictError(f"This request has already been decided ({row.state}).")
    row.state = rules.DECISIONS[decision]
    row.decided_by_id = actor.person_id
    row.decided_at = now
    row.comment = comment
    await s.flush()
    await audit.record(
        s,
        action=f"{row.kind}.{row.state}",
        now=now,
        actor=actor,
        target=f"person {row.learner_id}",
        details={"request": row.id, "course": course.code, "comment": comment},
    )
    await _tell_decided(s, row, course, now)
    return (await exemption_views(s, [row.id]))[0]


async def _tell_decided(
    s: AsyncSession, row: ExemptionRequest, course: Course, now: datetime
) -> None:
    """Whoever asked and the person it was for."""
    learner = await s.get(Person, row.learner_id)
    assert learner is not None
    for person_id in dict.fromkeys(p for p in (row.requested_by_id, row.learner_id) if p):
        await queue_email(
            s,
            topic="exemption.decided",
            recipient_id=person_id,
            booking_id=None,
            session_id=None,
            now=now,
            dedupe_key=f"exemption.decided:{row.id}:{person_id}",
            payload=_payload(row, course, learner),
        )
