"""Certificates: a course whose record rules say `certificate` awards one for each completion,
made in the transaction that records the completion (and, when a course starts awarding them,
for the completions it already has). The verification code is unguessable; the PDF goes to the
person, their line managers (direct or indirect) and administrators; the public verification
page shows only the name, the course and the dates."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import people, policy
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.models import Certificate, Completion, Course, CourseRecordRule, Person
from booking.records.certificate_pdf import CertificateFacts, render_certificate

# 18 random bytes: 24 URL-safe characters, 144 bits; nobody guesses one.
CODE_BYTES = 18
MAX_CODE_LENGTH = 40
API_PATH = "/api/v1/certificates/{id}"


def certificate_url(certificate_id: int | None) -> str | None:
    """Where the API serves a certificate's PDF (with the reader's token)."""
    return API_PATH.format(id=certificate_id) if certificate_id is not None else None


def verification_path(code: str) -> str:
    return f"/certificates/{code}"


def _row(completion: Completion, now: datetime) -> dict[str, object]:
    return {
        "code": secrets.token_urlsafe(CODE_BYTES),
        "completion_id": completion.id,
        "learner_id": completion.learner_id,
        "course_id": completion.course_id,
        "completed_at": completion.completed_at,
        "expires_at": completion.expires_at,
        "issued_at": now,
    }


async def issue_certificates(
    s: AsyncSession, completions: Sequence[Completion], now: datetime
) -> None:
    """A certificate for each of these new completions whose course awards one (in the
    caller's transaction, so a completion and its certificate stand or fall together)."""
    course_ids = sorted({c.course_id for c in completions})
    if not course_ids:
        return
    awarding = set(
        await s.scalars(
            select(CourseRecordRule.course_id).where(
                CourseRecordRule.course_id.in_(course_ids), CourseRecordRule.certificate.is_(True)
            )
        )
    )
    rows = [_row(c, now) for c in completions if c.course_id in awarding]
    if rows:
        await s.execute(insert(Certificate), rows)


async def issue_missing_certificates(s: AsyncSession, course_id: int, now: datetime) -> None:
    """When a course starts awarding certificates: one for each completion it has without one
    (each dated as its completion)."""
    without = await s.scalars(
        select(Completion)
        .outerjoin(Certificate, Certificate.completion_id == Completion.id)
        .where(Completion.course_id == course_id, Certificate.id.is_(None))
        .order_by(Completion.id)
    )
    rows = [_row(c, now) for c in without]
    if rows:
        await s.execute(insert(Certificate), rows)


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    """What the public verification page shows of a valid certificate, and nothing more."""

    name: str
    course_title: str
    completed_at: datetime
    expires_at: datetime | None


async def verify_certificate(db: Database, code: str) -> CertificateCheck:
    """The certificate with this verification code; 404 for a forged or unknown one."""
    if not code or len(code) > MAX_CODE_LENGTH:
        raise NotFoundError("There is no certificate with this code.")
    async with db.reading() as s:
        row = (
            await s.execute(
                select(Certificate, Person.name, Course.title)
                .join(Person, Person.id == Certificate.learner_id)
                .join(Course, Course.id == Certificate.course_id)
                .where(Certificate.code == code)
            )
        ).first()
    if row is None or not secrets.compare_digest(row[0].code, code):
        raise NotFoundError("There is no certificate with this code.")
    cert, name, title = row
    return CertificateCheck(name, title, cert.completed_at, cert.expires_at)


@dataclass(frozen=True, slots=True)
class CertificateFile:
    filename: str
    content: bytes


async def certificate_pdf(
    db: Database, actor: Actor, certificate_id: int, *, base_url: str
) -> CertificateFile:
    """The certificate as a PDF: for the person, their line managers (direct or indirect) and
    administrators; 404 for anyone else."""
    async with db.reading() as s:
        row = (
            await s.execute(
                select(Certificate, Person.name, Course.title, Course.code)
                .join(Person, Person.id == Certificate.learner_id)
                .join(Course, Course.id == Certificate.course_id)
                .where(Certificate.id == certificate_id)
            )
        ).first()
        if row is None or not await _may_see(s, actor, row[0].learner_id):
            raise NotFoundError(f"There is no certificate {certificate_id}.")
    cert, name, title, code = row
    facts = CertificateFacts(
        learner_name=name,
        course_title=title,
        course_code=code,
        completed_at=cert.completed_at,
        expires_at=cert.expires_at,
        code=cert.code,
        verification_url=base_url.rstrip("/") + verification_path(cert.code),
    )
    filename = f"certificate-{code}-{cert.completed_at:%Y-%m-%d}.pdf"
    return CertificateFile(filename, render_certificate(facts))


async def _may_see(s: AsyncSession, actor: Actor, learner_id: int) -> bool:
    if not policy.is_person(actor):
        return False
    if actor.is_admin or actor.person_id == learner_id:
        return True
    return policy.can_view_record(actor, learner_id, await people.managers_above(s, learner_id))
