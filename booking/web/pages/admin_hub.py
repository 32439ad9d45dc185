"""The administration page: one place that links every administrators' page.

`ADMIN_PAGES` is the list: a new administrators' page appends its entry there, and both this
page and the header's "Administration" entry (which it lights up) pick it up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, get
from litestar.response import Template

from booking import people, policy, webhooks
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.web.pages.render import page


@dataclass(frozen=True, slots=True)
class AdminPage:
    title: str
    href: str
    description: str
    # The `nav` marker the page renders with: the header shows "Administration" as current.
    nav: str


# ---- Administrators' pages: append yours here (title, link, one sentence, its nav marker). ----
ADMIN_PAGES: tuple[AdminPage, ...] = (
    AdminPage(
        "Courses",
        "/admin/courses",
        "Add, change, copy and archive courses; a course’s page lists its sessions and "
        "schedules new ones.",
        "admin_courses",
    ),
    AdminPage(
        "People",
        "/admin/people",
        "Find anyone by name, email or personnel number; change their roles or deactivate them.",
        "people",
    ),
    AdminPage(
        "Organisation units",
        "/admin/units",
        "The unit tree with its sub-units and how many people are in each.",
        "units",
    ),
    AdminPage(
        "Rooms",
        "/admin/rooms",
        "Rooms, their capacity, accessibility and joining details, and each room’s calendar.",
        "rooms",
    ),
    AdminPage(
        "Cost codes",
        "/admin/cost-codes",
        "Add or import cost codes and their budget holders, and download the finance journal.",
        "cost_codes",
    ),
    AdminPage(
        "Budgets and spend",
        "/budget",
        "Spend against each cost code’s limit, and the requests waiting for a budget holder.",
        "budget",
    ),
    AdminPage(
        "Compliance",
        "/admin/compliance",
        "Required learning and certifications across the organisation, with downloads.",
        "compliance",
    ),
    AdminPage(
        "Import completions",
        "/admin/records/import",
        "Add completions from another system to learners’ records from a CSV file.",
        "compliance",
    ),
    AdminPage(
        "Outbox",
        "/admin/outbox",
        "Every email, sent and waiting, and sending a failed one again.",
        "outbox",
    ),
    AdminPage(
        "Audit log",
        "/admin/audit",
        "Who changed what and when, searchable by action.",
        "audit",
    ),
    AdminPage(
        "Service tokens",
        "/admin/tokens",
        "Tokens for other systems to use the API: make one, see when each was last used, "
        "revoke one.",
        "tokens",
    ),
    AdminPage(
        "Account requests",
        "/admin/account-requests",
        "Requests for an account from people without one: approve (which makes the account) "
        "or decline with a reason.",
        "account_requests",
    ),
    AdminPage(
        "Sessions",
        "/admin/sessions",
        "Every session, upcoming or past, cancelled or draft: filter by course, trainer, room, "
        "status or dates, with links to each session, its roster and its form.",
        "sessions",
    ),
    # Reports (issue 17)
    AdminPage(
        "Reports",
        "/admin/reports",
        "Fill rate, waiting lists, attendance, cancellations, fees, trainers and compliance, "
        "with charts and downloads.",
        "reports",
    ),
    # Certificates and evidence (issue 18)
    AdminPage(
        "Evidence of training",
        "/evidence",
        "Evidence of training done elsewhere sent by learners: look at the file, then approve "
        "it into their record or decline it with a comment.",
        "evidence",
    ),
    # Learning programs (issue 18)
    AdminPage(
        "Learning programs",
        "/admin/programs",
        "Programs of learning such as an induction: sets of courses (all, any or optional), "
        "who they are for and when they are due.",
        "programs",
    ),
    # Exemptions and extensions (issue 18): also open to course owners, from their own entry.
    AdminPage(
        "Exemptions and extensions",
        "/exemptions",
        "Line managers' requests to exempt someone from a mandatory course or give them more "
        "time: approve or decline, with a comment.",
        "exemptions",
    ),
    # Outgoing webhooks (issue 19)
    AdminPage(
        "Webhooks",
        "/admin/webhooks",
        "Endpoints of other systems told when bookings, sessions, completions and approvals "
        "change: add one, see what was sent, send an event again.",
        "webhooks",
    ),
)
# ---- end of the administrators' pages --------------------------------------------------------

# The header's "Administration" entry is current on the hub and on each page it lists (the
# catalogue's marker belongs to "Courses").
ADMIN_NAV = frozenset({"admin", *(p.nav for p in ADMIN_PAGES)} - {"courses"})


@get("/admin", include_in_schema=False)
async def admin_hub_page(request: Request[Any, Any, Any], db: Database, actor: Actor) -> Template:
    if not policy.can_open_administration(actor):
        raise ForbiddenError("Only administrators can open the administration pages.")
    # What waits for the training team, beside its page's entry (one cheap count each).
    waiting = {"/admin/account-requests": await people.count_waiting_account_requests(db, actor)}
    # What needs a look: webhook endpoints paused after failures (issue 19).
    paused = await webhooks.count_paused(db, actor) if policy.can_manage_webhooks(actor) else 0
    warnings = {"/admin/webhooks": f"{paused} paused after failures"} if paused else {}
    return page(
        request,
        "booking/admin_hub.html",
        actor=actor,
        nav="admin",
        pages=ADMIN_PAGES,
        waiting=waiting,
        warnings=warnings,
    )


HANDLERS = [admin_hub_page]
