"""People, organisation units and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import ROLES, Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.kernel.tx import with_retry
from booking.kernel.views import PersonView
from booking.models import ApiToken, OrgUnit, Person

STAFF_TYPES = ("payroll", "casual", "associate", "external")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$")
TOKEN_PREFIX = "bk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str, field_name: str = "email") -> str:
    value = (email or "").strip().lower()
    if not EMAIL.match(value) or len(value) > 320:
        raise InvalidError(f"“{email}” is not an email address.", field_name)
    return value


@dataclass(frozen=True, slots=True)
class OrgUnitInput:
    code: str
    name: str
    parent_code: str | None = None


@dataclass(frozen=True, slots=True)
class PersonInput:
    email: str
    name: str
    personnel_number: str | None = None
    manager_email: str | None = None
    org_unit: str | None = None
    job_role: str | None = None
    staff_type: str = "payroll"
    roles: list[str] = field(default_factory=lambda: ["learner"])


@dataclass(slots=True)
class UpsertResult:
    id: int
    status: str
    email: str | None = None
    code: str | None = None


async def upsert_org_units(
    db: Database, clock: Clock, actor: Actor, units: list[OrgUnitInput]
) -> list[UpsertResult]:
    """Create or update a tree of units. Parents may come later in the list than children."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change organisation units.")
    codes = [u.code.strip() for u in units]
    for i, unit in enumerate(units):
        if not unit.code.strip() or len(unit.code) > 64:
            raise InvalidError(f"Unit {i + 1} needs a code of at most 64 characters.", "code")
        if not unit.name.strip():
            raise InvalidError(f"Unit {unit.code} needs a name.", "name")
        if unit.parent_code == unit.code:
            raise InvalidError(f"Unit {unit.code} cannot be its own parent.", "parent_code")
    if len(set(codes)) != len(codes):
        raise InvalidError("A unit code appears twice in the list.", "code")

    async def attempt() -> list[UpsertResult]:
        async with db.transaction() as s:
            existing = {
                u.code: u for u in await s.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))
            }
            results: dict[str, UpsertResult] = {}
            for unit in units:
                row = existing.get(unit.code)
                if row is None:
                    row = OrgUnit(code=unit.code.strip(), name=unit.name.strip())
                    s.add(row)
                    existing[unit.code] = row
                    results[unit.code] = UpsertResult(0, "created", code=unit.code)
                else:
                    changed = row.name != unit.name.strip()
                    row.name = unit.name.strip()
                    results[unit.code] = UpsertResult(
                        0, "updated" if changed else "unchanged", code=unit.code
                    )
            await s.flush()
            parents_wanted = {u.parent_code for u in units if u.parent_code} - set(existing)
            if parents_wanted:
                for parent in await s.scalars(
                    select(OrgUnit).where(OrgUnit.code.in_(parents_wanted))
                ):
                    existing[parent.code] = parent
            for unit in units:
                row = existing[unit.code]
                parent_id = None
                if unit.parent_code:
                    found = existing.get(unit.parent_code)
                    if found is None:
                        raise InvalidError(
                            f"Unit {unit.code} names an unknown parent {unit.parent_code}.",
                            "parent_code",
                        )
                    parent_id = found.id
                if row.parent_id != parent_id:
                    row.parent_id = parent_id
                    if results[unit.code].status == "unchanged":
                        results[unit.code].status = "updated"
                results[unit.code].id = row.id
            await s.flush()
            await _refuse_cycles(s)
            ordered = [results[u.code] for u in units]
            await _record_upsert(s, "org_units.upserted", actor, ordered, now=clock.now())
            return ordered

    return await with_retry(attempt)


async def _refuse_cycles(s: AsyncSession) -> None:
    parents = dict((await s.execute(select(OrgUnit.id, OrgUnit.parent_id))).all())
    codes = dict((await s.execute(select(OrgUnit.id, OrgUnit.code))).all())
    for start in parents:
        seen: set[int] = set()
        node: int | None = start
        while node is not None:
            if node in seen:
                raise InvalidError(f"Unit {codes[start]} would be its own ancestor.", "parent_code")
            seen.add(node)
            node = parents.get(node)


async def upsert_people(
    db: Database, clock: Clock, actor: Actor, people: list[PersonInput]
) -> list[UpsertResult]:
    """Create or update people by email (personnel number kept unique). Managers may be listed
    after their reports."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can import people.")
    cleaned = [_clean_person(i, p) for i, p in enumerate(people)]
    emails = [p.email for p in cleaned]
    if len(set(emails)) != len(emails):
        raise InvalidError("An email address appears twice in the list.", "email")

    async def attempt() -> list[UpsertResult]:
        async with db.transaction() as s:
            now = clock.now()
            units = dict((await s.execute(select(OrgUnit.code, OrgUnit.id))).all())
            by_email = {
                p.email: p for p in await s.scalars(select(Person).where(Person.email.in_(emails)))
            }
            results: list[UpsertResult] = []
            for p in cleaned:
                if p.org_unit and p.org_unit not in units:
                    raise InvalidError(
                        f"{p.email}: unknown organisation unit {p.org_unit}.", "org_unit"
                    )
                values = {
                    "name": p.name,
                    "personnel_number": p.personnel_number,
                    "org_unit_id": units.get(p.org_unit) if p.org_unit else None,
                    "job_role": p.job_role,
                    "staff_type": p.staff_type,
                    "roles": " ".join(sorted(set(p.roles))),
                }
                row = by_email.get(p.email)
                if row is None:
                    if values["roles"] != "learner":
                        await audit.record(
                            s,
                            action="person.roles_changed",
                            now=now,
                            actor=actor,
                            target=p.email,
                            details={"from": None, "to": values["roles"]},
                        )
                    row = Person(email=p.email, created_at=now, updated_at=now, **values)
                    s.add(row)
                    by_email[p.email] = row
                    results.append(UpsertResult(0, "created", email=p.email))
                else:
                    changed = any(getattr(row, k) != v for k, v in values.items())
                    if row.roles != values["roles"]:
                        await audit.record(
                            s,
                            action="person.roles_changed",
                            now=now,
                            actor=actor,
                            target=p.email,
                            details={"from": row.roles, "to": values["roles"]},
                        )
                    for k, v in values.items():
                        setattr(row, k, v)
                    if changed:
                        row.updated_at = now
                    results.append(
                        UpsertResult(row.id, "updated" if changed else "unchanged", email=p.email)
                    )
            await s.flush()
            manager_emails = {p.manager_email for p in cleaned if p.manager_email} - set(by_email)
            if manager_emails:
                for m in await s.scalars(select(Person).where(Person.email.in_(manager_emails))):
                    by_email[m.email] = m
            for p, result in zip(cleaned, results, strict=True):
                row = by_email[p.email]
                manager_id = None
                if p.manager_email:
                    manager = by_email.get(p.manager_email)
                    if manager is None:
                        raise InvalidError(
                            f"{p.email}: unknown manager {p.manager_email}.", "manager_email"
                        )
                    if manager.id == row.id:
                        raise InvalidError(f"{p.email} cannot manage themselves.", "manager_email")
                    manager_id = manager.id
                if row.manager_id != manager_id:
                    row.manager_id = manager_id
                    if result.status == "unchanged":
                        result.status = "updated"
                result.id = row.id
            await _check_personnel_numbers(s)
            await _record_upsert(s, "people.upserted", actor, results, now=now)
            return results

    return await with_retry(attempt)


async def _record_upsert(
    s: AsyncSession, action: str, actor: Actor, results: Sequence[UpsertResult], *, now: datetime
) -> None:
    """One audit row per upsert that changed something, with what it changed."""
    created = [r.email or r.code for r in results if r.status == "created"]
    updated = [r.email or r.code for r in results if r.status == "updated"]
    if created or updated:
        await audit.record(
            s,
            action=action,
            now=now,
            actor=actor,
            target=", ".join(str(x) for x in [*created, *updated])[:200],
            details={"created": len(created), "updated": len(updated)},
        )


def _clean_person(index: int, p: PersonInput) -> PersonInput:
    email = normalise_email(p.email, "email")
    if not p.name.strip():
        raise InvalidError(f"Person {index + 1} ({email}) needs a name.", "name")
    for label, value in (("name", p.name), ("job_role", p.job_role or "")):
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise InvalidError(
                f"{email}: the {label.replace('_', ' ')} contains a line break or control "
                "character.",
                label,
            )
    if p.staff_type not in STAFF_TYPES:
        raise InvalidError(
            f"{email}: staff_type must be payroll, casual, associate or external.", "staff_type"
        )
    roles = list(p.roles or ["learner"])
    for role in roles:
        if role not in ROLES:
            raise InvalidError(
                f"{email}: “{role}” is not a role; use learner, trainer, budget_holder or admin.",
                "roles",
            )
    if "learner" not in roles:
        roles.append("learner")
    return PersonInput(
        email=email,
        name=p.name.strip(),
        personnel_number=(p.personnel_number or "").strip() or None,
        manager_email=normalise_email(p.manager_email, "manager_email")
        if p.manager_email
        else None,
        org_unit=(p.org_unit or "").strip() or None,
        job_role=(p.job_role or "").strip() or None,
        staff_type=p.staff_type,
        roles=roles,
    )


async def _check_personnel_numbers(s: AsyncSession) -> None:
    # The unique constraint would catch it at commit; a sentence is kinder than an IntegrityError.
    from sqlalchemy import func

    dupes = (
        (
            await s.execute(
                select(Person.personnel_number)
                .where(Person.personnel_number.is_not(None))
                .group_by(Person.personnel_number)
                .having(func.count() > 1)
            )
        )
        .scalars()
        .all()
    )
    if dupes:
        raise InvalidError(
            "Personnel numbers must be unique: " + ", ".join(sorted(d for d in dupes if d)),
            "personnel_number",
        )


async def person_view(s: AsyncSession, person: Person) -> PersonView:
    unit = await s.get(OrgUnit, person.org_unit_id) if person.org_unit_id else None
    manager = await s.get(Person, person.manager_id) if person.manager_id else None
    return PersonView(
        id=person.id,
        email=person.email,
        name=person.name,
        roles=person.roles.split(),
        personnel_number=person.personnel_number,
        job_role=person.job_role,
        staff_type=person.staff_type,
        org_unit=unit.code if unit else None,
        manager_email=manager.email if manager else None,
    )


async def get_me(db: Database, actor: Actor) -> PersonView:
    if actor.person_id is None:
        raise NotFoundError("This token does not act as a person.")
    async with db.reading() as s:
        person = await s.get(Person, actor.person_id)
        if person is None:
            raise NotFoundError("This person no longer exists.")
        return await person_view(s, person)


async def list_people(db: Database) -> list[PersonView]:
    """Everyone, by name: for the demo's pick-a-person login and admin pages."""
    async with db.reading() as s:
        people = (await s.scalars(select(Person).order_by(Person.name))).all()
        return [await person_view(s, p) for p in people]


# ---------------------------------------------------------------------------------------------
# Tokens and actors


async def create_admin(db: Database, clock: Clock, *, email: str, name: str) -> str:
    """Create (or promote) an administrator and return a new token for them."""
    email = normalise_email(email)
    if not name.strip():
        raise InvalidError("An administrator needs a name.", "name")
    async with db.transaction() as s:
        now = clock.now()
        person = await s.scalar(select(Person).where(Person.email == email))
        if person is None:
            person = Person(
                email=email,
                name=name.strip(),
                roles="admin learner",
                staff_type="payroll",
                created_at=now,
                updated_at=now,
            )
            s.add(person)
            await s.flush()
        else:
            roles = set(person.roles.split()) | {"admin", "learner"}
            person.roles = " ".join(sorted(roles))
            person.updated_at = now
        return await _new_token(s, now=now, person_id=person.id, scope="person")


async def create_token(
    db: Database,
    clock: Clock,
    *,
    email: str | None = None,
    service: str | None = None,
    scope: str = "person",
) -> str:
    """A token acting as a person (with their roles), or a machine client's records token."""
    async with db.transaction() as s:
        now = clock.now()
        if email is not None:
            person = await s.scalar(select(Person).where(Person.email == normalise_email(email)))
            if person is None:
                raise NotFoundError(f"There is nobody with the email address {email}.")
            return await _new_token(s, now=now, person_id=person.id, scope="person")
        if not service or not service.strip():
            raise InvalidError("Name the service the token is for.", "service")
        if scope != "records":
            raise InvalidError("Service tokens have the records scope.", "scope")
        return await _new_token(s, now=now, service_name=service.strip(), scope="records")


async def _new_token(
    s: AsyncSession,
    *,
    now: object,
    person_id: int | None = None,
    service_name: str | None = None,
    scope: str,
) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    s.add(
        ApiToken(
            token_hash=hash_token(token),
            person_id=person_id,
            service_name=service_name,
            scope=scope,
            created_at=now,
        )
    )
    await s.flush()
    return token


# Every API request runs this: built once (building costs more than running it).
_TOKEN_LOOKUP = (
    select(ApiToken, Person)
    .outerjoin(Person, Person.id == ApiToken.person_id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


async def actor_for_token(db: Database, token: str) -> Actor | None:
    """The actor a bearer token stands for, or None for an unknown or revoked token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    async with db.reading() as s:
        row = (await s.execute(_TOKEN_LOOKUP, {"token_hash": hash_token(token)})).first()
        if row is None:
            return None
        api_token, person = row
        if api_token.scope == "records":
            return Actor(
                None,
                f"service:{api_token.service_name}",
                api_token.service_name or "",
                frozenset(),
                "records",
            )
        if person is None or not person.active:
            return None
        return Actor(person.id, person.email, person.name, frozenset(person.roles.split()))


async def actor_for_person(db: Database, person_id: int) -> Actor | None:
    async with db.reading() as s:
        person = await s.get(Person, person_id)
        if person is None or not person.active:
            return None
        return Actor(person.id, person.email, person.name, frozenset(person.roles.split()))
