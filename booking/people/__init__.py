"""People, organisation units, tokens and the signed-in actor.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.people.queries import active_admin_ids
from booking.people.service import (
    OrgUnitInput,
    PersonInput,
    actor_for_person,
    actor_for_token,
    create_admin,
    create_token,
    get_me,
    list_people,
    upsert_org_units,
    upsert_people,
)

__all__ = [
    "active_admin_ids",
    "OrgUnitInput",
    "PersonInput",
    "actor_for_person",
    "actor_for_token",
    "create_admin",
    "create_token",
    "get_me",
    "list_people",
    "upsert_org_units",
    "upsert_people",
]
