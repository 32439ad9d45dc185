"""Databases for the benchmark: created, migrated with `booking db upgrade`, and filled in bulk.

Rows are written straight into the tables (asyncpg COPY on PostgreSQL, executemany through
SQLAlchemy Core on SQLite, so values are stored exactly as the app stores them), with explicit ids
so the harness knows every id without asking. Everything is generated from a fixed seed: the same
scale gives the same data.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.server import clean_env

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
LONDON = "Europe/London"
TOKEN_PREFIX = "bk_"  # booking.people.tokens.TOKEN_PREFIX


def token_for(kind: str, n: int) -> str:
    return f"{TOKEN_PREFIX}bench-{kind}-{n:07d}-" + "x" * 16


def hash_token(token: str) -> str:
    # As booking.people.tokens.hash_token: SHA-256 of the secret.
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Targets: one PostgreSQL database or one SQLite file


@dataclass
class Target:
    backend: str  # "postgresql" or "sqlite"
    name: str  # database name (PostgreSQL) or file path (SQLite)

    @property
    def url(self) -> str:
        """The SQLAlchemy URL the app is given (BOOKING_DATABASE_URL)."""
        if self.backend == "postgresql":
            return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"
        return f"sqlite+aiosqlite:///{self.name}"

    @property
    def dsn(self) -> str:
        """For asyncpg (PostgreSQL only)."""
        return f"{PG_SERVER}/{self.name}"


async def recreate(target: Target) -> None:
    if target.backend == "postgresql":
        import asyncpg

        assert target.name.startswith("booking_bench_"), (
            "the harness only touches its own databases"
        )
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{target.name}"')
        finally:
            await conn.close()
    else:
        _remove_sqlite(target.name)


async def drop(target: Target) -> None:
    if target.backend == "postgresql":
        import asyncpg

        assert target.name.startswith("booking_bench_")
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')
        finally:
            await conn.close()
    else:
        _remove_sqlite(target.name)


def _remove_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


def migrate(target: Target, workdir: Path) -> None:
    """`booking db upgrade`, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "booking.cli", "db", "upgrade"],
        cwd=workdir,
        env=clean_env({"BOOKING_DATABASE_URL": target.url}),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`booking db upgrade` failed:\n{done.stderr[-3000:]}")


class Writer:
    """Bulk inserts with explicit columns; sequences moved past the ids written (PostgreSQL)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.pg: Any = None
        self.engine: Any = None
        self.tables: set[str] = set()

    async def __aenter__(self) -> Writer:
        if self.target.backend == "postgresql":
            import asyncpg

            self.pg = await asyncpg.connect(self.target.dsn)
        else:
            from sqlalchemy import create_engine

            self.engine = create_engine(f"sqlite:///{self.target.name}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.pg is not None:
            await self.pg.close()
        if self.engine is not None:
            self.engine.dispose()

    async def insert(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        rows = list(rows)
        if not rows:
            return 0
        if "id" in columns:
            self.tables.add(table)
        if self.pg is not None:
            records = [
                tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in row)
                for row in rows
            ]
            await self.pg.copy_records_to_table(table, records=records, columns=list(columns))
        else:
            from sqlalchemy import insert

            from booking.models import Base

            t = Base.metadata.tables[table]
            with self.engine.begin() as conn:
                for i in range(0, len(rows), 50_000):
                    conn.execute(
                        insert(t),
                        [dict(zip(columns, r, strict=True)) for r in rows[i : i + 50_000]],
                    )
        return len(rows)

    async def finish(self, *, analyze: bool) -> None:
        if self.pg is not None:
            for table in sorted(self.tables):
                await self.pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
            if analyze:
                # What autovacuum does soon after a bulk load in production; done now, so it does
                # not run in the background while pages are measured.
                await self.pg.execute("VACUUM (ANALYZE)")
        # SQLite: no ANALYZE, as the app never runs one; the planner works without statistics.


# ---------------------------------------------------------------------------------------------
# Common row makers


def _person(
    pid: int, email: str, name: str, unit: int | None, now: datetime, **kw: Any
) -> tuple[Any, ...]:
    return (
        pid,
        kw.get("personnel_number"),
        name,
        email,
        kw.get("manager_id"),
        unit,
        kw.get("job_role", "Officer"),
        "payroll",
        kw.get("roles", "learner"),
        now,
        now,
    )


PERSON_COLUMNS = (
    "id",
    "personnel_number",
    "name",
    "email",
    "manager_id",
    "org_unit_id",
    "job_role",
    "staff_type",
    "roles",
    "created_at",
    "updated_at",
)
TOKEN_COLUMNS = ("id", "token_hash", "person_id", "scope", "created_at")
COURSE_COLUMNS = (
    "id",
    "code",
    "title",
    "summary",
    "price_amount",
    "price_currency",
    "approval",
    "prerequisites",
    "created_at",
    "updated_at",
)
SESSION_COLUMNS = (
    "id",
    "course_id",
    "capacity",
    "seats_held",
    "waitlist_seq",
    "room_id",
    "virtual_link",
    "waitlist_mode",
    "offer_hours",
    "signup_opens",
    "signup_closes",
    "min_bookings",
    "status",
    "starts_at",
    "ends_at",
    "sequence",
    "created_at",
    "updated_at",
)
DATE_COLUMNS = ("id", "session_id", "start_at", "end_at", "timezone")
BOOKING_COLUMNS = (
    "id",
    "session_id",
    "course_id",
    "learner_id",
    "state",
    "waitlist_seq",
    "cancel_reason",
    "sequence",
    "created_at",
    "updated_at",
)
COMPLETION_COLUMNS = (
    "id",
    "learner_id",
    "course_id",
    "completed_at",
    "expires_at",
    "source",
    "booking_id",
    "recorded_at",
)
HISTORY_COLUMNS = (
    "id",
    "booking_id",
    "at",
    "actor_id",
    "actor",
    "from_state",
    "to_state",
    "reason",
)


def _course(cid: int, code: str, title: str, summary: str, now: datetime, price: int | None = None):  # type: ignore[no-untyped-def]
    return (cid, code, title, summary, price, "GBP", {"steps": []}, {"items": []}, now, now)


def _session(
    sid: int,
    course_id: int,
    capacity: int,
    start: datetime,
    hours: float,
    now: datetime,
    *,
    seats_held: int = 0,
    waitlist_seq: int = 0,
    room_id: int | None = None,
    virtual: bool = False,
) -> tuple[Any, ...]:
    return (
        sid,
        course_id,
        capacity,
        seats_held,
        waitlist_seq,
        room_id,
        f"https://meet.example.org/s{sid}" if virtual else None,
        "auto",
        24,
        None,
        start - timedelta(hours=24),  # the app's default: sign-up closes 24 h before the start
        0,
        "open",
        start,
        start + timedelta(hours=hours),
        0,
        now,
        now,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# ---------------------------------------------------------------------------------------------
# The operations data set: learners with tokens, and sessions for workloads A, B, R and C


@dataclass
class OpsPlan:
    a_learners: int
    b_learners: int
    rush_clients: int
    rush_repeats: int
    churn_sessions: int
    churn_capacity: int = 20
    bulk_sessions: int = 600  # for A and for B, each: capacity 100 (plenty of free seats)
    bulk_capacity: int = 100


@dataclass
class OpsData:
    # (learner_id, session_id) pairs for the bare driver, in order
    a_pairs: list[tuple[int, int, int]] = field(default_factory=list)  # learner, session, course
    # (token, session_id) for uncontended HTTP bookings, in order
    b_requests: list[tuple[str, int]] = field(default_factory=list)
    rush_sessions: list[int] = field(default_factory=list)
    rush_tokens: list[str] = field(default_factory=list)
    churn_sessions: list[int] = field(default_factory=list)
    # booked bookings that churn may cancel: (token, booking_id, session_id)
    churn_booked: list[tuple[str, int, int]] = field(default_factory=list)
    # fresh learners who book on churn sessions: token
    churn_new: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


async def seed_ops(target: Target, plan: OpsPlan) -> OpsData:
    now = _utc_now()
    base = (now + timedelta(days=30)).replace(hour=9, minute=30, second=0)
    out = OpsData()
    people: list[tuple[Any, ...]] = []
    tokens: list[tuple[Any, ...]] = []
    units = [
        (1, "ORG", "The Council", None),
        (2, "DIR", "A Directorate", 1),
        (3, "TEAM", "A Team", 2),
    ]
    pid = 0

    def person(kind: str, n: int, with_token: bool) -> tuple[int, str | None]:
        nonlocal pid
        pid += 1
        people.append(_person(pid, f"{kind}{n:07d}@example.org", f"{kind.title()} {n}", 3, now))
        if not with_token:
            return pid, None
        token = token_for(kind, n)
        tokens.append((len(tokens) + 1, hash_token(token), pid, "person", now))
        return pid, token

    courses: list[tuple[Any, ...]] = []
    sessions: list[tuple[Any, ...]] = []
    dates: list[tuple[Any, ...]] = []
    bookings: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []

    def add_course(code: str, title: str) -> int:
        cid = len(courses) + 1
        courses.append(_course(cid, code, title, f"Benchmark course {code}.", now))
        return cid

    def add_session(course_id: int, capacity: int, start: datetime, **kw: Any) -> int:
        sid = len(sessions) + 1
        row = _session(sid, course_id, capacity, start, 3, now, **kw)
        sessions.append(row)
        dates.append((len(dates) + 1, sid, row[13], row[14], LONDON))
        return sid

    # A and B: 10 sessions per course, capacity 100 each; learner i takes session i mod n.
    def bulk_sessions(prefix: str) -> list[tuple[int, int]]:
        made = []
        for k in range(plan.bulk_sessions):
            if k % 10 == 0:
                cid = add_course(f"{prefix}-{k // 10:04d}", f"{prefix} course {k // 10}")
            made.append((add_session(cid, plan.bulk_capacity, base + timedelta(hours=4 * k)), cid))
        return made

    a_sessions = bulk_sessions("A")
    b_sessions = bulk_sessions("B")
    seats = plan.bulk_sessions * plan.bulk_capacity
    for i in range(min(plan.a_learners, seats)):
        learner, _ = person("a", i, with_token=False)
        sid, cid = a_sessions[i % len(a_sessions)]
        out.a_pairs.append((learner, sid, cid))
    for i in range(min(plan.b_learners, seats)):
        _, token = person("b", i, with_token=True)
        assert token is not None
        out.b_requests.append((token, b_sessions[i % len(b_sessions)][0]))

    # R: one course and one session of 50 seats per repeat, on separate days (no clashes); the
    # same clients rush every session.
    for i in range(plan.rush_clients):
        _, token = person("rush", i, with_token=True)
        assert token is not None
        out.rush_tokens.append(token)
    for r in range(plan.rush_repeats):
        cid = add_course(f"RUSH-{r:03d}", f"Rush course {r}")
        out.rush_sessions.append(add_session(cid, 50, base + timedelta(days=400 + r)))

    # C: full sessions (capacity booked, as many again waiting), each learner on one session.
    cap = plan.churn_capacity
    for k in range(plan.churn_sessions):
        if k % 10 == 0:
            cid = add_course(f"CHURN-{k // 10:04d}", f"Churn course {k // 10}")
        sid = add_session(
            cid, cap, base + timedelta(days=200, hours=4 * k), seats_held=cap, waitlist_seq=cap
        )
        out.churn_sessions.append(sid)
        for j in range(2 * cap):
            n = k * 2 * cap + j
            learner, token = person("churn", n, with_token=True)
            assert token is not None
            bid = len(bookings) + 1
            booked = j < cap
            state = "booked" if booked else "waitlisted"
            bookings.append(
                (bid, sid, cid, learner, state, None if booked else j - cap + 1, None, 0, now, now)
            )
            history.append((bid, bid, now, learner, f"churn{n:07d}@example.org", None, state, None))
            if booked:
                out.churn_booked.append((token, bid, sid))
    for i in range(plan.churn_sessions * cap):
        _, token = person("fresh", i, with_token=True)
        assert token is not None
        out.churn_new.append(token)

    async with Writer(target) as w:
        await w.insert("org_units", ("id", "code", "name", "parent_id"), units)
        out.counts["people"] = await w.insert("people", PERSON_COLUMNS, people)
        out.counts["api_tokens"] = await w.insert("api_tokens", TOKEN_COLUMNS, tokens)
        out.counts["courses"] = await w.insert("courses", COURSE_COLUMNS, courses)
        out.counts["sessions"] = await w.insert("sessions", SESSION_COLUMNS, sessions)
        await w.insert("session_dates", DATE_COLUMNS, dates)
        out.counts["bookings"] = await w.insert("bookings", BOOKING_COLUMNS, bookings)
        await w.insert("booking_history", HISTORY_COLUMNS, history)
        await w.finish(analyze=True)
    return out


# ---------------------------------------------------------------------------------------------
# The organisation-scale data set for the pages workload


@dataclass
class OrgScale:
    people: int
    courses: int
    sessions: int
    bookings: int

    @classmethod
    def full(cls) -> OrgScale:
        return cls(100_000, 2_000, 20_000, 500_000)

    def times(self, factor: float) -> OrgScale:
        return OrgScale(
            max(1_000, int(self.people * factor)),
            max(60, int(self.courses * factor)),
            max(600, int(self.sessions * factor)),
            max(10_000, int(self.bookings * factor)),
        )

    def label(self) -> str:
        def k(n: int) -> str:
            return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)

        return (
            f"{k(self.people)} people, {k(self.courses)} courses, {k(self.sessions)} sessions,"
            f" {k(self.bookings)} bookings"
        )


TOPICS = (
    "Safeguarding Adults",
    "Safeguarding Children",
    "Fire Safety",
    "First Aid at Work",
    "Manual Handling",
    "Data Protection",
    "Information Security",
    "Equality and Diversity",
    "Mental Health Awareness",
    "Lone Working",
    "Conflict Resolution",
    "Customer Care",
    "Project Management",
    "Budget Management",
    "Report Writing",
    "Minute Taking",
    "Leadership",
    "Coaching Skills",
    "Recruitment and Selection",
    "Managing Absence",
    "Food Hygiene",
    "Infection Control",
    "Medication Awareness",
    "Dementia Care",
    "Autism Awareness",
    "Deaf Awareness",
    "Risk Assessment",
    "Working at Height",
    "Asbestos Awareness",
    "Driving for Work",
    "Procurement",
    "Contract Management",
    "Spreadsheets",
    "Presentation Skills",
    "Negotiation",
    "Change Management",
    "Domestic Abuse Awareness",
    "Modern Slavery",
    "Prevent Duty",
    "Trauma-Informed Practice",
)
LEVELS = ("Introduction", "Foundations", "Practice", "Advanced")
SEARCH_WORDS = tuple(level.lower() for level in LEVELS)  # each matches a quarter of courses
JOB_ROLES = (
    "Social Worker",
    "Care Assistant",
    "Team Manager",
    "Officer",
    "Senior Officer",
    "Analyst",
    "Administrator",
    "Teacher",
    "Teaching Assistant",
    "Occupational Therapist",
    "Planner",
    "Engineer",
    "Librarian",
    "Driver",
    "Cleaner",
    "Cook",
    "Receptionist",
    "Accountant",
)


@dataclass
class OrgData:
    scale: OrgScale
    counts: dict[str, int] = field(default_factory=dict)
    learner_tokens: list[str] = field(default_factory=list)
    learner_emails: list[str] = field(default_factory=list)
    learner_ids: list[int] = field(default_factory=list)
    learner_booking_counts: list[int] = field(default_factory=list)
    trainer_token: str = ""
    trainer_email: str = ""
    trainer_id: int = 0
    course_ids: list[int] = field(default_factory=list)
    roster_sessions: list[int] = field(default_factory=list)
    roster_size: int = 100
    sessions_per_course_upcoming: float = 0.0

    def keep_learners(self, n: int) -> None:
        """Sign in as the first `n` of the sampled learners only (sign-in costs a password hash)."""
        self.learner_tokens = self.learner_tokens[:n]
        self.learner_emails = self.learner_emails[:n]
        self.learner_ids = self.learner_ids[:n]
        self.learner_booking_counts = self.learner_booking_counts[:n]


async def seed_org(target: Target, scale: OrgScale, *, seed: int = 20261123) -> OrgData:
    """People in teams under directorates, courses with ten sessions each over a year (half of
    them past), bookings spread over the sessions (attended ones completed), twenty sessions with
    a roster of exactly 100."""
    rng = random.Random(seed)
    now = _utc_now()
    out = OrgData(scale)

    # Organisation: a root, 8 directorates, one team per 100 people.
    n_teams = max(10, scale.people // 100)
    units = [(1, "ORG", "The Council", None)]
    units += [(2 + d, f"DIR{d}", f"Directorate {d}", 1) for d in range(8)]
    team_ids = []
    for t in range(n_teams):
        uid = 10 + t
        units.append((uid, f"TEAM{t:05d}", f"Team {t}", 2 + t % 8))
        team_ids.append(uid)

    # People: ~1% trainers; the first person of each team manages it.
    people = []
    trainers: list[int] = []
    for i in range(1, scale.people + 1):
        team = team_ids[(i - 1) % n_teams]
        manager = (team - 10) + 1 if i > n_teams else None
        roles = "learner"
        if i % 97 == 0:
            roles = "learner trainer"
            trainers.append(i)
        people.append(
            _person(
                i,
                f"p{i:06d}@example.org",
                f"Person {i}",
                team,
                now,
                personnel_number=f"E{i:06d}",
                manager_id=manager,
                job_role=JOB_ROLES[i % len(JOB_ROLES)],
                roles=roles,
            )
        )
    roster_trainer = trainers[0]

    rooms = [(r, f"Room {r}", f"{r} Civic Centre", 40) for r in range(1, 51)]

    courses = []
    for c in range(1, scale.courses + 1):
        topic = TOPICS[(c - 1) // len(LEVELS) % len(TOPICS)]
        level = LEVELS[(c - 1) % len(LEVELS)]
        title = f"{topic}: {level} ({(c - 1) // (len(LEVELS) * len(TOPICS)) + 1})"
        summary = f"A course on {topic.lower()} for council staff."
        price = None if c % 3 else 5000
        courses.append(_course(c, f"C{c:05d}", title, summary, now, price))

    # Sessions: the same number per course at every scale, spread from six months ago to six
    # months ahead, so about half are upcoming.
    per_course = max(1, scale.sessions // scale.courses)
    sessions_meta = []  # (sid, course_id, start, capacity, room, virtual)
    sid = 0
    for c in range(1, scale.courses + 1):
        for j in range(per_course):
            sid += 1
            day = -180 + int(j * 360 / per_course) + rng.randint(0, 20)
            start = (now + timedelta(days=day)).replace(
                hour=9 + rng.choice((0, 4)), minute=30, second=0
            )
            capacity = rng.choice((12, 16, 20, 24, 30))
            virtual = rng.random() < 0.3
            room = None if virtual else rng.randint(1, 50)
            sessions_meta.append([sid, c, start, capacity, room, virtual])
    upcoming = [m for m in sessions_meta if m[2] > now + timedelta(days=2)]
    out.sessions_per_course_upcoming = len(upcoming) / scale.courses

    # Twenty upcoming sessions (of different courses) get a roster of exactly 100.
    roster: dict[int, int] = {}
    seen_courses: set[int] = set()
    for m in rng.sample(upcoming, len(upcoming)):
        if m[1] in seen_courses:
            continue
        seen_courses.add(m[1])
        roster[m[0]] = 90  # 90 booked, 10 waiting
        m[3] = 90
        if len(roster) == 20:
            break
    out.roster_sessions = sorted(roster)

    avg = scale.bookings / scale.sessions
    bookings = []
    history = []
    completions = []
    sessions = []
    dates = []
    facilitators = []
    bid = 0
    for sid, cid, start, capacity, room, virtual in sessions_meta:
        # A roster of exactly 100, or about the average (rounded, so the total comes out right).
        n = 100 if sid in roster else max(0, int(rng.uniform(avg * 0.5, avg * 1.5) + 0.5))
        learners = rng.sample(range(1, scale.people + 1), n)
        past = start < now
        booked = waiting = 0
        for learner in learners:
            bid += 1
            seq = None
            if past:
                r = rng.random()
                state = "attended" if r < 0.85 else ("no_show" if r < 0.9 else "cancelled")
            elif sid not in roster and rng.random() < 0.1:
                state = "cancelled"
            elif booked < capacity:
                state = "booked"
                booked += 1
            else:
                state = "waitlisted"
                waiting += 1
                seq = waiting
            created = start - timedelta(days=30 + rng.randint(0, 30))
            bookings.append(
                (
                    bid,
                    sid,
                    cid,
                    learner,
                    state,
                    seq,
                    "Work commitments" if state == "cancelled" else None,
                    0,
                    created,
                    created,
                )
            )
            history.append(
                (bid, bid, created, learner, f"p{learner:06d}@example.org", None, state, None)
            )
            if state == "attended":
                end = start + timedelta(hours=3)
                completions.append(
                    (len(completions) + 1, learner, cid, end, None, "workshop", bid, end)
                )
        sessions.append(
            _session(
                sid,
                cid,
                capacity,
                start,
                3,
                now,
                seats_held=booked,
                waitlist_seq=waiting,
                room_id=room,
                virtual=virtual,
            )
        )
        dates.append((sid, sid, start, start + timedelta(hours=3), LONDON))
        facilitators.append((sid, roster_trainer if sid in roster else rng.choice(trainers)))

    # Tokens: forty learners to sign in as, and the trainer who runs the twenty big rosters.
    tokens = []
    per_learner: dict[int, int] = {}
    for b in bookings:
        per_learner[b[3]] = per_learner.get(b[3], 0) + 1
    sample = rng.sample([p for p in range(1, scale.people + 1) if p % 97], 40)
    for n, learner in enumerate(sample):
        token = token_for("learner", learner)
        tokens.append((n + 1, hash_token(token), learner, "person", now))
        out.learner_tokens.append(token)
        out.learner_emails.append(f"p{learner:06d}@example.org")
        out.learner_ids.append(learner)
        out.learner_booking_counts.append(per_learner.get(learner, 0))
    out.trainer_token = token_for("trainer", roster_trainer)
    out.trainer_email = f"p{roster_trainer:06d}@example.org"
    out.trainer_id = roster_trainer
    tokens.append((len(tokens) + 1, hash_token(out.trainer_token), roster_trainer, "person", now))
    out.course_ids = sorted(rng.sample(range(1, scale.courses + 1), 40))

    async with Writer(target) as w:
        await w.insert("org_units", ("id", "code", "name", "parent_id"), units)
        out.counts["people"] = await w.insert("people", PERSON_COLUMNS, people)
        await w.insert("api_tokens", TOKEN_COLUMNS, tokens)
        await w.insert("rooms", ("id", "name", "address", "capacity"), rooms)
        out.counts["courses"] = await w.insert("courses", COURSE_COLUMNS, courses)
        out.counts["sessions"] = await w.insert("sessions", SESSION_COLUMNS, sessions)
        await w.insert("session_dates", DATE_COLUMNS, dates)
        await w.insert("session_facilitators", ("session_id", "person_id"), facilitators)
        out.counts["bookings"] = await w.insert("bookings", BOOKING_COLUMNS, bookings)
        out.counts["booking_history"] = await w.insert("booking_history", HISTORY_COLUMNS, history)
        out.counts["completions"] = await w.insert("completions", COMPLETION_COLUMNS, completions)
        await w.finish(analyze=True)
    return out
