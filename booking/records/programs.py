"""Learning programs (administrators write them; anyone signed in reads one): sets of courses
with a rule each (`all`, `any`, `optional`), an audience and a due period.

A program's sets are replaced whole on each change (they have no identity of their own: the
progress of a person is worked out from their completions, never stored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.learning_vocabulary import ProgramSetRule
from booking.domain.programs import RULES
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.models import Course, OrgUnit, Program, ProgramSet
from booking.records.program_views import ProgramAudience, ProgramSetView, ProgramView

MAX_CODE, MAX_TITLE, MAX_SUMMARY = 64, 200, 5000
MAX_SETS, MAX_COURSES_IN_SET, MAX_DAYS = 30, 100, 3650
STAFF_TYPES = ("payroll", "casual", "associate", "external")


@dataclass(slots=True)
class ProgramSetInput:
    title: str
    rule: str
    course_codes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ProgramInput:
    code: str
    title: str
    summary: str = ""
    audience: dict[str, Any] | None = None
    due_within_days: int | None = None
    sets: list[ProgramSetInput] = field(default_factory=list)
    archived: bool = False


def _refuse_unless_allowed(actor: Actor) -> None:
    if not policy.can_manage_programs(actor):
        raise ForbiddenError("Only administrators can manage learning programs.")


async def create_program(
    db: Database, clock: Clock, actor: Actor, data: ProgramInput
) -> ProgramView:
    """A new program; its code must be free and every course it names must exist."""
    _refuse_unless_allowed(actor)
    clean = validate_program(data)

    async def create(s: AsyncSession) -> ProgramView:
        now = clock.now()
        await _refuse_taken_code(s, clean.code, None)
        await _check_references(s, clean)
        program = Program(created_at=now, updated_at=now)
        _apply(program, clean, now)
        await _flush_unless_taken(s, program, clean.code)
        sets = await _replace_sets(s, program.id, clean.sets)
        await _audit(s, program, "program.created", actor, now)
        return _view(program, sets)

    return await tx.run(db, create)


async def update_program(
    db: Database, clock: Clock, actor: Actor, program_id: int, data: ProgramInput
) -> ProgramView:
    """Replace a program's details and sets."""
    _refuse_unless_allowed(actor)
    clean = validate_program(data)

    async def update(s: AsyncSession) -> ProgramView:
        now = clock.now()
        program = await _program(s, program_id, for_update=True)
        await _refuse_taken_code(s, clean.code, program.id)
        await _check_references(s, clean)
        _apply(program, clean, now)
        await _flush_unless_taken(s, program, clean.code)
        sets = await _replace_sets(s, program.id, clean.sets)
        await _audit(s, program, "program.changed", actor, now)
        return _view(program, sets)

    return await tx.run(db, update)


async def get_program(db: Database, actor: Actor, program_id: int) -> ProgramView:
    """A program: anyone signed in (or with a token) may read it."""
    if not policy.can_read_programs(actor):
        raise NotFoundError(f"There is no program {program_id}.")
    async with db.reading() as s:
        program = await _program(s, program_id)
        return _view(program, await _sets_of(s, [program.id]))


async def list_programs(
    db: Database, actor: Actor, *, with_archived: bool = True
) -> list[ProgramView]:
    """Every program by title, with its sets (administrators). Two statements."""
    _refuse_unless_allowed(actor)
    async with db.reading() as s:
        stmt = select(Program).order_by(Program.title, Program.id)
        if not with_archived:
            stmt = stmt.where(Program.archived_at.is_(None))
        programs = list(await s.scalars(stmt))
        sets = await _sets_of(s, [p.id for p in programs])
    return [_view(p, [x for x in sets if x.program_id == p.id]) for p in programs]


def validate_program(data: ProgramInput) -> ProgramInput:
    """The program trimmed, or the first thing wrong with it (naming its field)."""
    code, title = data.code.strip(), data.title.strip()
    if not code or len(code) > MAX_CODE:
        raise InvalidError(f"Give the program a code of 1 to {MAX_CODE} characters.", "code")
    if not title or len(title) > MAX_TITLE:
        raise InvalidError(f"Give the program a title of 1 to {MAX_TITLE} characters.", "title")
    if len(data.summary or "") > MAX_SUMMARY:
        raise InvalidError(f"A summary is limited to {MAX_SUMMARY:,} characters.", "summary")
    days = data.due_within_days
    if days is not None and not 0 <= days <= MAX_DAYS:
        raise InvalidError(f"due_within_days must be from 0 to {MAX_DAYS}.", "due_within_days")
    if len(data.sets) > MAX_SETS:
        raise InvalidError(f"A program has at most {MAX_SETS} sets.", "sets")
    return ProgramInput(
        code=code,
        title=title,
        summary=(data.summary or "").strip(),
        audience=_audience(data.audience),
        due_within_days=days,
        sets=[_set(i, s) for i, s in enumerate(data.sets)],
        archived=data.archived,
    )


def _set(index: int, data: ProgramSetInput) -> ProgramSetInput:
    where = f"sets[{index}]"
    title = data.title.strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidError(
            f"Give each set a title of 1 to {MAX_TITLE} characters.", f"{where}.title"
        )
    if data.rule not in RULES:
        raise InvalidError("A set's rule is all, any or optional.", f"{where}.rule")
    codes = list(dict.fromkeys(c.strip() for c in data.course_codes if c.strip()))
    if not codes:
        raise InvalidError("Name at least one course in each set.", f"{where}.course_codes")
    if len(codes) > MAX_COURSES_IN_SET:
        raise InvalidError(
            f"A set names at most {MAX_COURSES_IN_SET} courses.", f"{where}.course_codes"
        )
    return ProgramSetInput(title, data.rule, codes)


def _audience(audience: dict[str, Any] | None) -> dict[str, Any] | None:
    clean: dict[str, list[str]] = {}
    for key in ("org_units", "job_roles", "staff_types"):
        value = (audience or {}).get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidError(f"audience.{key} must be a list of strings.", "audience")
        kept = list(dict.fromkeys(v.strip() for v in value if v.strip()))
        if kept:
            clean[key] = kept
    for staff_type in clean.get("staff_types", []):
        if staff_type not in STAFF_TYPES:
            raise InvalidError(
                f"“{staff_type}” is not a staff type; use payroll, casual, associate or external.",
                "audience",
            )
    return clean or None


async def _check_references(s: AsyncSession, data: ProgramInput) -> None:
    """Every course code names a course; every unit in the audience exists."""
    wanted = {c for x in data.sets for c in x.course_codes}
    known = (
        set((await s.scalars(select(Course.code).where(Course.code.in_(sorted(wanted))))).all())
        if wanted
        else set()
    )
    for i, x in enumerate(data.sets):
        missing = [c for c in x.course_codes if c not in known]
        if missing:
            raise InvalidError(
                f"There is no course with code {', '.join(missing)}.", f"sets[{i}].course_codes"
            )
    units = (data.audience or {}).get("org_units") or []
    if units:
        found = set((await s.scalars(select(OrgUnit.code).where(OrgUnit.code.in_(units)))).all())
        unknown = sorted(set(units) - found)
        if unknown:
            raise InvalidError(
                "Unknown organisation units in the audience: " + ", ".join(unknown), "audience"
            )


def _apply(program: Program, data: ProgramInput, now: datetime) -> None:
    program.code = data.code
    program.title = data.title
    program.summary = data.summary
    program.audience = data.audience
    program.due_within_days = data.due_within_days
    program.updated_at = now
    if data.archived and program.archived_at is None:
        program.archived_at = now
    elif not data.archived:
        program.archived_at = None


async def _replace_sets(
    s: AsyncSession, program_id: int, sets: Sequence[ProgramSetInput]
) -> list[ProgramSet]:
    await s.execute(delete(ProgramSet).where(ProgramSet.program_id == program_id))
    rows = [
        ProgramSet(
            program_id=program_id,
            position=i,
            title=x.title,
            rule=x.rule,
            course_codes=list(x.course_codes),
        )
        for i, x in enumerate(sets)
    ]
    s.add_all(rows)
    await s.flush()
    return rows


async def _sets_of(s: AsyncSession, program_ids: list[int]) -> list[ProgramSet]:
    if not program_ids:
        return []
    return list(
        await s.scalars(
            select(ProgramSet)
            .where(ProgramSet.program_id.in_(program_ids))
            .order_by(ProgramSet.program_id, ProgramSet.position)
        )
    )


async def _program(s: AsyncSession, program_id: int, *, for_update: bool = False) -> Program:
    stmt = select(Program).where(Program.id == program_id)
    program = await s.scalar(stmt.with_for_update() if for_update else stmt)
    if program is None:
        raise NotFoundError(f"There is no program {program_id}.")
    return program


async def _refuse_taken_code(s: AsyncSession, code: str, program_id: int | None) -> None:
    clash = select(Program.id).where(Program.code == code)
    if program_id is not None:
        clash = clash.where(Program.id != program_id)
    if await s.scalar(clash) is not None:
        raise ConflictError(f"There is already a program with code {code}.")


async def _flush_unless_taken(s: AsyncSession, program: Program, code: str) -> None:
    # Another transaction may take the code between the check and the write.
    try:
        async with s.begin_nested():
            s.add(program)
            await s.flush()
    except IntegrityError as exc:
        raise ConflictError(f"There is already a program with code {code}.") from exc


def _view(program: Program, sets: Sequence[ProgramSet]) -> ProgramView:
    return ProgramView(
        id=program.id,
        code=program.code,
        title=program.title,
        summary=program.summary,
        audience=cast(ProgramAudience | None, program.audience),
        due_within_days=program.due_within_days,
        sets=[
            ProgramSetView(x.title, cast(ProgramSetRule, x.rule), list(x.course_codes))
            for x in sets
        ],
        created_at=program.created_at,
        updated_at=program.updated_at,
        archived_at=program.archived_at,
    )


async def _audit(
    s: AsyncSession, program: Program, action: str, actor: Actor, now: datetime
) -> None:
    await audit.record(
        s,
        action=action,
        now=now,
        actor=actor,
        target=f"program {program.id}",
        details={"code": program.code, "archived": program.archived_at is not None},
    )
