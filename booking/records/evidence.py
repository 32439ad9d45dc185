"""Evidence of training done elsewhere: a learner sends it (a PDF, PNG or JPEG, told by its
content, at most 10 MB); the course's owner or an administrator approves it, which records a
completion with source `evidence` (so it is in the record, the records feed and xAPI like any
other), or declines it with a comment. Each step is audited and emailed in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import people, policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.evidence import (
    DECISIONS,
    MAX_EVIDENCE_BYTES,
    SNIFF_BYTES,
    content_type_of,
    safe_filename,
)
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    TooLargeError,
)
from booking.kernel.outbox import queue_email
from booking.models import Completion, Course, Evidence, EvidenceFile, Person
from booking.records.completions import add_completion
from booking.records.evidence_reads import EvidenceView, load_evidence

EVIDENCE_SOURCE = "evidence"
MAX_NOTE = 2000
MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class EvidenceUpload:
    course_code: str
    completed_at: datetime | None
    note: str | None
    filename: str | None
    content: bytes


def _clean_text(value: str | None, limit: int, field: str, what: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidError(f"Keep the {what} to {limit:,} characters or fewer.", field)
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text) or "\x7f" in text:
        raise InvalidError(f"The {what} contains a control character.", field)
    return text or None


async def send_evidence(
    db: Database, clock: Clock, actor: Actor, upload: EvidenceUpload
) -> EvidenceView:
    """Keep the learner's evidence, pending, and tell whoever decides it."""
    if not policy.is_person(actor) or actor.person_id is None:
        raise ForbiddenError("Only people send evidence, for their own record.")
    if len(upload.content) > MAX_EVIDENCE_BYTES:
        raise TooLargeError("The file is larger than 10 MB: send a smaller one.")
    if not upload.content:
        raise InvalidError("Choose the file to send: a PDF, PNG or JPEG.", "file")
    content_type = content_type_of(upload.content[:SNIFF_BYTES])
    if content_type is None:
        raise InvalidError(
            "The file is not a PDF, PNG or JPEG (we read what it contains, not its name): "
            "send one of those.",
            "file",
        )
    note = _clean_text(upload.note, MAX_NOTE, "note", "note")
    now = clock.now()
    if upload.completed_at is None:
        raise InvalidError("Give the date you completed the training.", "completed_at")
    if upload.completed_at > now:
        raise InvalidError("The completion date cannot be in the future.", "completed_at")
    work = partial(
        _send,
        actor=actor,
        upload=upload,
        content_type=content_type,
        note=note,
        now=now,
    )
    return await tx.run(db, work)


async def _send(
    s: AsyncSession,
    *,
    actor: Actor,
    upload: EvidenceUpload,
    content_type: str,
    note: str | None,
    now: datetime,
) -> EvidenceView:
    code = upload.course_code.strip()
    course = await s.scalar(select(Course).where(Course.code == code)) if code else None
    if course is None or (course.archived_at is not None and not actor.is_admin):
        raise InvalidError(f"There is no course with the code “{code[:40]}”.", "course_code")
    assert actor.person_id is not None
    evidence = Evidence(
        learner_id=actor.person_id,
        course_id=course.id,
        completed_at=upload.completed_at,
        note=note,
        filename=safe_filename(upload.filename, content_type),
        content_type=content_type,
        size=len(upload.content),
        state="pending",
        submitted_at=now,
    )
    s.add(evidence)
    await s.flush()
    s.add(EvidenceFile(evidence_id=evidence.id, content=upload.content))
    await audit.record(
        s,
        action="evidence.submitted",
        now=now,
        actor=actor,
        target=f"evidence:{evidence.id}",
        details={"course": course.code, "size": evidence.size, "type": content_type},
    )
    await _tell_deciders(s, evidence, course, actor, now)
    view = await load_evidence(s, evidence.id)
    assert view is not None
    return view


async def _tell_deciders(
    s: AsyncSession, evidence: Evidence, course: Course, actor: Actor, now: datetime
) -> None:
    """The course's owner (a person, or a team mailbox by its address); a course without an
    owner tells every active administrator."""
    payload = {"course_id": course.id, "learner_name": actor.name, "evidence_id": evidence.id}
    if course.owner_email:
        owner = await s.scalar(select(Person.id).where(Person.email == course.owner_email))
        recipients: list[tuple[int | None, dict[str, object]]] = [
            (owner, {} if owner else {"to_email": course.owner_email, "to_name": ""})
        ]
    else:
        admins = await s.scalars(
            select(Person.id).where(Person.active.is_(True), Person.roles.like("%admin%"))
        )
        recipients = [(admin_id, {}) for admin_id in admins]
    for person_id, extra in recipients:
        await queue_email(
            s,
            topic="evidence.submitted",
            recipient_id=person_id,
            booking_id=None,
            session_id=None,
            now=now,
            dedupe_key=f"evidence.submitted:{evidence.id}:{person_id or course.owner_email}",
            payload={**payload, **extra},
        )


async def decide_evidence(
    db: Database, clock: Clock, actor: Actor, evidence_id: int, decision: str, comment: str | None
) -> EvidenceView:
    """Approve (a completion with source `evidence`) or decline (with the comment) pending
    evidence: the course's owner or an administrator. 404 for those who may not see it, 403
    for those who see it but may not decide, 409 once decided."""
    if decision not in DECISIONS:
        raise InvalidError("The decision is approve or decline.", "decision")
    clean = _clean_text(comment, MAX_COMMENT, "comment", "comment")
    work = partial(
        _decide, clock=clock, actor=actor, evidence_id=evidence_id, decision=decision, comment=clean
    )
    return await tx.run(db, work)


async def _decide(
    s: AsyncSession,
    *,
    clock: Clock,
    actor: Actor,
    evidence_id: int,
    decision: str,
    comment: str | None,
) -> EvidenceView:
    row = (
        await s.execute(
            select(Evidence, Course)
            .join(Course, Course.id == Evidence.course_id)
            .where(Evidence.id == evidence_id)
            .with_for_update(of=Evidence)
        )
    ).first()
    evidence, course = row if row else (None, None)
    if evidence is None or course is None or not await _sees(s, actor, evidence, course):
        raise NotFoundError(f"There is no evidence {evidence_id}.")
    if not policy.can_decide_evidence(actor, course.owner_email):
        raise ForbiddenError("Only the course's owner or an administrator decides its evidence.")
    if evidence.state != "pending":
        raise ConflictError(f"This evidence was already {evidence.state}.")
    now = clock.now()
    evidence.state = DECISIONS[decision]
    evidence.decided_by_id = actor.person_id
    evidence.decided_at = now
    evidence.comment = comment
    if decision == "approve":
        evidence.completion_id = await _complete(s, evidence, course, now)
    await s.flush()
    await audit.record(
        s,
        action=f"evidence.{evidence.state}",
        now=now,
        actor=actor,
        target=f"evidence:{evidence.id}",
        details={"course": course.code, "learner_id": evidence.learner_id, "comment": comment},
    )
    await queue_email(
        s,
        topic="evidence.decided",
        recipient_id=evidence.learner_id,
        booking_id=None,
        session_id=None,
        now=now,
        dedupe_key=f"evidence.decided:{evidence.id}",
        payload={"course_id": course.id, "decision": evidence.state, "reason": comment},
    )
    view = await load_evidence(s, evidence.id)
    assert view is not None
    return view


async def _sees(s: AsyncSession, actor: Actor, evidence: Evidence, course: Course) -> bool:
    managers = await people.managers_above(s, evidence.learner_id)
    return policy.can_see_evidence(actor, evidence.learner_id, managers, course.owner_email)


async def _complete(s: AsyncSession, evidence: Evidence, course: Course, now: datetime) -> int:
    """The completion the evidence proves (the one already there, if the learner has a
    completion of the course at that very moment)."""
    completion = await add_completion(
        s,
        learner_id=evidence.learner_id,
        course=course,
        completed_at=evidence.completed_at,
        source=EVIDENCE_SOURCE,
        now=now,
    )
    if completion is not None:
        return completion.id
    from_before = await s.scalar(
        select(Completion.id).where(
            Completion.learner_id == evidence.learner_id,
            Completion.course_id == course.id,
            Completion.completed_at == evidence.completed_at,
        )
    )
    assert from_before is not None
    return int(from_before)
