"""Signing in: server-side browser sessions, local passwords (argon2id), reset links, and the
single sign-on hand-off. Every sign-in starts a new session id; signing out deletes it."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError, NotFoundError
from booking.kernel.outbox import queue_email
from booking.models import Course, LocalCredential, PasswordReset, Person, WebSession
from booking.people.actors import actor_of, duties_of

SESSION_COOKIE = "booking_sid"
TOUCH_EVERY = timedelta(seconds=60)
RESET_LIFETIME = timedelta(hours=1)
# argon2id at OWASP's recommended minimum (19 MiB, two passes, one lane) rather than
# argon2-cffi's default (RFC 9106's 64 MiB, three passes, four lanes): that one held a worker's
# event loop for ~130 ms and raised its resident memory by 64 MB at every sign-in, so ten people
# signing in at once could take a small container's memory. Hashes made with other parameters
# still verify, and are made again with these at the next sign-in (`check_needs_rehash`).
# docs/decisions.md, "Password hashing parameters".
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when there is no such account, so a wrong email costs as long as a wrong
# password and timing does not tell which accounts exist. Made on first need, not at import.
_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password-1A")
    return _dummy_hash


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Browser sessions


async def start_session(db: Database, clock: Clock, person_id: int, method: str) -> str:
    sid = secrets.token_urlsafe(32)
    async with db.transaction() as s:
        now = clock.now()
        s.add(
            WebSession(
                id_hash=_digest(sid),
                person_id=person_id,
                method=method,
                created_at=now,
                last_seen_at=now,
            )
        )
    return sid


async def actor_for_session(
    db: Database, clock: Clock, sid: str | None, *, idle: timedelta, absolute: timedelta
) -> Actor | None:
    """The signed-in person, or None when the session is unknown, idle too long or too old."""
    if not sid or len(sid) > 100:
        return None
    now = clock.now()
    key = _digest(sid)
    async with db.reading() as s:
        row = (
            await s.execute(
                select(
                    WebSession,
                    Person,
                    *duties_of(WebSession.person_id),
                    exists().where(Course.owner_email == Person.email).label("owns_courses"),
                )
                .join(Person, Person.id == WebSession.person_id)
                .where(WebSession.id_hash == key)
            )
        ).first()
    if row is None:
        return None
    session, person, has_reports, runs_sessions, has_approvals_waiting, owns_courses = row
    if (
        not person.active
        or now - session.last_seen_at > idle
        or now - session.created_at > absolute
    ):
        await end_session(db, sid)
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        async with db.transaction() as s:
            await s.execute(
                update(WebSession).where(WebSession.id_hash == key).values(last_seen_at=now)
            )
    # Read in the same statement as the session, for the navigation: no query of its own.
    return actor_of(
        person,
        has_reports=bool(has_reports),
        runs_sessions=bool(runs_sessions),
        has_approvals_waiting=bool(has_approvals_waiting),
        owns_courses=bool(owns_courses),
    )


async def end_session(db: Database, sid: str | None) -> None:
    if not sid:
        return
    async with db.transaction() as s:
        await s.execute(delete(WebSession).where(WebSession.id_hash == _digest(sid)))


# ---------------------------------------------------------------------------------------------
# Local passwords


def check_password_policy(password: str) -> None:
    """At least 8 characters with an upper-case letter, a lower-case letter and a digit."""
    problems = []
    if len(password) < 8:
        problems.append("at least 8 characters")
    if not re.search(r"[A-Z]", password):
        problems.append("an upper-case letter")
    if not re.search(r"[a-z]", password):
        problems.append("a lower-case letter")
    if not re.search(r"[0-9]", password):
        problems.append("a digit")
    if len(password) > 256:
        raise InvalidError("A password can be at most 256 characters.", "password")
    if problems:
        raise InvalidError("Your password needs " + ", ".join(problems) + ".", "password")


async def set_password(db: Database, clock: Clock, person_id: int, password: str) -> None:
    check_password_policy(password)
    hashed = await asyncio.to_thread(_hasher.hash, password)
    async with db.transaction() as s:
        await _store_password(s, person_id, hashed, now=clock.now())


async def _store_password(s: AsyncSession, person_id: int, hashed: str, *, now: datetime) -> None:
    row = await s.get(LocalCredential, person_id)
    if row is None:
        s.add(LocalCredential(person_id=person_id, password_hash=hashed, updated_at=now))
    else:
        row.password_hash = hashed
        row.updated_at = now


async def check_password(db: Database, clock: Clock, email: str, password: str) -> Actor | None:
    """The person, if the email and password match an active local account."""
    email = (email or "").strip().lower()
    async with db.reading() as s:
        row = (
            await s.execute(
                select(Person, LocalCredential.password_hash)
                .join(LocalCredential, LocalCredential.person_id == Person.id)
                .where(Person.email == email, Person.active.is_(True))
            )
        ).first()
    stored = row[1] if row else await asyncio.to_thread(_dummy)
    try:
        # In a worker thread (argon2's C code releases the GIL): 25 ms of hashing no longer
        # holds every other request in this process.
        await asyncio.to_thread(_hasher.verify, stored, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    person = row[0]
    if _hasher.check_needs_rehash(stored):
        await set_password(db, clock, person.id, password)
    return actor_of(person)


# ---------------------------------------------------------------------------------------------
# Reset links


async def request_reset(
    db: Database, clock: Clock, settings: Settings, email: str, *, ip: str | None = None
) -> None:
    """Email a single-use link if the address belongs to someone; say nothing either way."""
    email = (email or "").strip().lower()
    async with db.transaction() as s:
        now = clock.now()
        person = await s.scalar(
            select(Person).where(Person.email == email, Person.active.is_(True))
        )
        await audit.record(
            s,
            action="password.reset_requested",
            now=now,
            actor_label=email or "?",
            ip=ip,
            details={"known": person is not None},
        )
        if person is None:
            return
        token = _new_reset(s, person.id, now=now, lifetime=RESET_LIFETIME)
        await queue_email(
            s,
            topic="account.password_reset",
            recipient_id=person.id,
            booking_id=None,
            session_id=None,
            now=now,
            dedupe_key=f"account.password_reset:{_digest(token)}",
            # The link must reach the person, so the outbox row carries it until it is sent;
            # the database keeps only the token's hash for checking it.
            payload={
                "link": f"{settings.base_url}/password/reset?token={token}",
                "expires_minutes": int(RESET_LIFETIME.total_seconds() // 60),
            },
        )


def _new_reset(s: AsyncSession, person_id: int, *, now: datetime, lifetime: timedelta) -> str:
    """A new single-use reset token for the person; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    s.add(
        PasswordReset(
            token_hash=_digest(token),
            person_id=person_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def set_password_link(
    s: AsyncSession, settings: Settings, person_id: int, *, now: datetime, lifetime: timedelta
) -> str:
    """A set-your-password link (the reset page) for a new account, inside the caller's
    transaction: a welcome email carries it."""
    token = _new_reset(s, person_id, now=now, lifetime=lifetime)
    return f"{settings.base_url}/password/reset?token={token}"


async def reset_password(
    db: Database, clock: Clock, token: str, password: str, *, ip: str | None = None
) -> Actor:
    """Use a reset link: set the password, spend the link, and sign out every session."""
    check_password_policy(password)
    async with db.transaction() as s:
        now = clock.now()
        reset = await s.scalar(
            select(PasswordReset)
            .where(PasswordReset.token_hash == _digest(token or ""))
            .with_for_update()
        )
        if reset is None or reset.used_at is not None or reset.expires_at <= now:
            raise NotFoundError("This reset link is not valid any more. Ask for a new one.")
        reset.used_at = now
        person = await s.get_one(Person, reset.person_id)
        await _store_password(s, person.id, _hasher.hash(password), now=now)
        await s.execute(delete(WebSession).where(WebSession.person_id == person.id))
        # Other outstanding links for this person stop working too.
        await s.execute(
            update(PasswordReset)
            .where(PasswordReset.person_id == person.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
        await audit.record(s, action="password.changed", now=now, actor=actor_of(person), ip=ip)
        return actor_of(person)


# ---------------------------------------------------------------------------------------------
# Single sign-on: map the provider's claims to a person


@dataclass(frozen=True, slots=True)
class Claims:
    email: str | None
    personnel_number: str | None
    subject: str


async def person_for_claims(db: Database, claims: Claims) -> Actor | None:
    conditions = []
    if claims.email:
        conditions.append(Person.email == claims.email.strip().lower())
    if claims.personnel_number:
        conditions.append(Person.personnel_number == claims.personnel_number.strip())
    if not conditions:
        return None
    async with db.reading() as s:
        person = await s.scalar(
            select(Person).where(or_(*conditions), Person.active.is_(True)).limit(1)
        )
    return actor_of(person) if person else None
