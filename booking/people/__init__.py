"""People, organisation units, tokens and the signed-in actor.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own: `people` (importing people), `units` (importing the unit tree), `upserts` (what an
import answers), `queries` (reads), `tokens` (API tokens), `actors` (who a request acts as) and
`auth` (signing in: browser sessions, passwords, reset links, single sign-on); for the
administrators' pages, `directory` (the people list and a person's details), `roles` (changing
roles with a reason), `activation` (deactivate, reactivate) and `unit_tree` (units with their
sub-units and head counts), `service_tokens` (integrations' tokens: list, create, revoke),
`csv_import`, `people_import` and `units_import` (CSV imports of people and units with a preview
before anything is written); `account_requests` (the public form asking for an account, and
its confirmation link) and `account_queue` (the administrators' queue: approve, which
makes the person, or decline)."""

from booking.people.account_queue import (
    AccountRequestQueue,
    AccountRequestRow,
    Approved,
    account_request_queue,
    approve_account_request,
    count_waiting_account_requests,
    decline_account_request,
)
from booking.people.account_requests import (
    ACCOUNT_REQUEST_STATES,
    AccountRequestInput,
    UnitChoice,
    account_request_errors,
    account_request_units,
    confirm_account_request,
    confirmation_token,
    request_account,
)
from booking.people.activation import deactivate_person, reactivate_person
from booking.people.actors import actor_for_person, actor_for_token
from booking.people.chain import managers_above, manages, reports_below, reports_below_query
from booking.people.csv_import import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ImportOutcome,
    ImportPreview,
    PreviewRow,
)
from booking.people.directory import (
    STATUSES,
    PeopleFilter,
    PeoplePage,
    PersonDetails,
    PersonRow,
    UnitOption,
    person_details,
    search_people,
)
from booking.people.people import STAFF_TYPES, PersonInput, upsert_people
from booking.people.people_import import PEOPLE_COLUMNS, import_people_csv, preview_people_csv
from booking.people.queries import active_admin_ids, get_me, list_people, who_am_i
from booking.people.remembered import RememberedTokens, hash_of
from booking.people.roles import change_roles
from booking.people.service_tokens import (
    SERVICE_SCOPES,
    NewServiceToken,
    ServiceTokenRow,
    create_service_token,
    list_service_tokens,
    revoke_service_token,
    service_token,
)
from booking.people.tokens import create_admin, create_token
from booking.people.unit_tree import UnitNode, UnitTree, unit_tree
from booking.people.units import OrgUnitInput, upsert_org_units
from booking.people.units_import import UNIT_COLUMNS, import_units_csv, preview_units_csv

__all__ = [
    "hash_of",
    "RememberedTokens",
    "ACCOUNT_REQUEST_STATES",
    "AccountRequestInput",
    "AccountRequestQueue",
    "AccountRequestRow",
    "Approved",
    "UnitChoice",
    "account_request_errors",
    "account_request_queue",
    "account_request_units",
    "approve_account_request",
    "confirm_account_request",
    "confirmation_token",
    "count_waiting_account_requests",
    "decline_account_request",
    "request_account",
    "SERVICE_SCOPES",
    "STAFF_TYPES",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "PEOPLE_COLUMNS",
    "UNIT_COLUMNS",
    "ImportOutcome",
    "ImportPreview",
    "PreviewRow",
    "import_people_csv",
    "import_units_csv",
    "preview_people_csv",
    "preview_units_csv",
    "STATUSES",
    "NewServiceToken",
    "ServiceTokenRow",
    "create_service_token",
    "list_service_tokens",
    "revoke_service_token",
    "service_token",
    "active_admin_ids",
    "OrgUnitInput",
    "PeopleFilter",
    "PeoplePage",
    "PersonDetails",
    "PersonInput",
    "PersonRow",
    "UnitNode",
    "UnitOption",
    "UnitTree",
    "change_roles",
    "deactivate_person",
    "manages",
    "managers_above",
    "reports_below",
    "reports_below_query",
    "person_details",
    "reactivate_person",
    "search_people",
    "unit_tree",
    "actor_for_person",
    "actor_for_token",
    "create_admin",
    "create_token",
    "get_me",
    "who_am_i",
    "list_people",
    "upsert_org_units",
    "upsert_people",
]
