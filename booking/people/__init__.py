"""People, organisation units, tokens and the signed-in actor.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own: `people` (importing people), `units` (importing the unit tree), `upserts` (what an
import answers), `queries` (reads), `tokens` (API tokens), `actors` (who a request acts as) and
`auth` (signing in: browser sessions, passwords, reset links, single sign-on)."""

from booking.people.actors import actor_for_person, actor_for_token
from booking.people.people import PersonInput, upsert_people
from booking.people.queries import active_admin_ids, get_me, list_people
from booking.people.tokens import create_admin, create_token
from booking.people.units import OrgUnitInput, upsert_org_units

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
