"""Service tokens made, listed and revoked by an administrator (both databases): the secret is
answered once and only its hash is kept, a revoked token is refused at once, the last use is
noted at most once a minute, and every change leaves an audit row without the secret."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking import people
from booking.clock import FixedClock
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.models import ApiToken, AuditEvent
from booking.people.tokens import hash_token
from tests import support


async def test_a_new_token_works_once_made_and_only_its_hash_is_kept(world: support.World) -> None:
    made = await people.create_service_token(
        world.db, world.clock, world.admin, name="  Records   service ", scope="records"
    )
    assert made.name == "Records service" and made.secret.startswith("bk_")
    actor = await people.actor_for_token(world.db, made.secret)
    assert actor is not None and actor.scope == "records" and actor.person_id is None
    async with world.db.reading() as s:
        stored = await s.get(ApiToken, made.id)
        audit = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "token.created"))
        ).one()
    assert stored is not None and stored.token_hash == hash_token(made.secret)
    assert stored.created_by_id == world.admin.person_id
    assert made.secret not in str(audit.details) and stored.token_hash not in str(audit.details)
    assert audit.target == "Records service" and audit.actor_id == world.admin.person_id
    [row] = await people.list_service_tokens(world.db, world.admin)
    assert (row.name, row.scope, row.active, row.last_used_at) == (
        "Records service",
        "records",
        True,
        None,
    )
    assert row.created_by == world.admin.name
    assert made.secret not in repr(row)


async def test_a_bad_name_or_scope_makes_nothing(world: support.World) -> None:
    for name, scope, field in (
        ("", "records", "name"),
        ("x" * 101, "records", "name"),
        ("HR feed", "person", "scope"),
        ("HR feed", "", "scope"),
    ):
        with pytest.raises(InvalidError) as refused:
            await people.create_service_token(
                world.db, world.clock, world.admin, name=name, scope=scope
            )
        assert refused.value.field == field
    await people.create_service_token(
        world.db, world.clock, world.admin, name="HR", scope="records"
    )
    with pytest.raises(InvalidError, match="already named"):
        await people.create_service_token(
            world.db, world.clock, world.admin, name="HR", scope="records"
        )
    assert len(await people.list_service_tokens(world.db, world.admin)) == 1


async def test_only_administrators_manage_tokens(world: support.World) -> None:
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(ForbiddenError):
        await people.list_service_tokens(world.db, lee)
    with pytest.raises(ForbiddenError):
        await people.create_service_token(world.db, world.clock, lee, name="X", scope="records")
    with pytest.raises(ForbiddenError):
        await people.revoke_service_token(world.db, world.clock, lee, 1)


async def test_a_revoked_token_is_refused_at_once_and_audited(world: support.World) -> None:
    made = await people.create_service_token(
        world.db, world.clock, world.admin, name="LMS", scope="records"
    )
    assert await people.actor_for_token(world.db, made.secret) is not None
    await people.revoke_service_token(world.db, world.clock, world.admin, made.id)
    assert await people.actor_for_token(world.db, made.secret) is None
    with pytest.raises(InvalidError, match="already revoked"):
        await people.revoke_service_token(world.db, world.clock, world.admin, made.id)
    [row] = await people.list_service_tokens(world.db, world.admin)
    assert not row.active and row.revoked_at == world.clock.now()
    async with world.db.reading() as s:
        revoked = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "token.revoked"))
        ).one()
    assert revoked.target == "LMS" and revoked.details == {"token_id": made.id, "scope": "records"}
    # A new token may take the revoked one's name.
    await people.create_service_token(
        world.db, world.clock, world.admin, name="LMS", scope="records"
    )


async def test_person_tokens_are_not_service_tokens(world: support.World) -> None:
    await people.create_token(world.db, world.clock, email="lee@example.org")
    assert await people.list_service_tokens(world.db, world.admin) == []
    async with world.db.reading() as s:
        person_token = await s.scalar(select(ApiToken.id).where(ApiToken.service_name.is_(None)))
    assert person_token is not None
    with pytest.raises(NotFoundError):
        await people.revoke_service_token(world.db, world.clock, world.admin, person_token)
    with pytest.raises(NotFoundError):
        await people.service_token(world.db, world.admin, person_token)


async def test_the_last_use_is_noted_at_most_once_a_minute(world: support.World) -> None:
    made = await people.create_service_token(
        world.db, world.clock, world.admin, name="Feed", scope="records"
    )
    clock = FixedClock(world.clock.now())

    async def last_used() -> object:
        return (await people.service_token(world.db, world.admin, made.id)).last_used_at

    first = clock.now()
    await people.actor_for_token(world.db, made.secret, clock)
    assert await last_used() == first
    clock.advance(timedelta(seconds=59))
    await people.actor_for_token(world.db, made.secret, clock)
    assert await last_used() == first
    clock.advance(timedelta(seconds=1))
    await people.actor_for_token(world.db, made.secret, clock)
    assert await last_used() == clock.now()
