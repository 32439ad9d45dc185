"""Every page handler, mounted: the signed-in pages behind one `actor` dependency."""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.di import Provide

from booking.web.deps import provide_page_actor
from booking.web.pages import (
    account_requests,
    admin_cancel,
    admin_copy,
    admin_courses,
    admin_hub,
    admin_rooms,
    admin_session_list,
    admin_sessions,
    admin_tokens,
    admin_webhooks,
    approvals,
    audit,
    calendar,
    catalogue,
    certificates,
    evidence,
    exemptions,
    login,
    my_bookings,
    my_sessions,
    outbox,
    passwords,
    people,
    people_import,
    programs,
    records,
    reports,
    roster,
)


def page_routes() -> list[Any]:
    """Every page: those that may ask who is signed in (the `actor` dependency sends everyone
    else to the login page), single sign-on and passwords (for anyone), and the calendar feed,
    which its private link opens."""
    return [
        Router(
            path="/",
            route_handlers=[
                *catalogue.HANDLERS,
                *my_bookings.HANDLERS,
                *my_sessions.HANDLERS,
                *admin_hub.HANDLERS,
                *outbox.HANDLERS,
                calendar.reset_feed,
                *approvals.HANDLERS,
                *admin_sessions.HANDLERS,
                *admin_copy.HANDLERS,
                *admin_cancel.HANDLERS,
                *admin_rooms.HANDLERS,
                *admin_tokens.HANDLERS,
                *roster.HANDLERS,
                *records.HANDLERS,
                *people.HANDLERS,
                *people_import.HANDLERS,
                *login.HANDLERS,
                # Catalogue administration: the course list, form, copy, archive.
                *admin_courses.HANDLERS,
                # Account requests: the administrators' queue.
                *account_requests.HANDLERS,
                # The administrators' list of every session.
                *admin_session_list.HANDLERS,
                # Reports (issue 17)
                *reports.HANDLERS,
                # Certificates and evidence (issue 18)
                *evidence.HANDLERS,
                *certificates.HANDLERS,
                # Learning programs (issue 18): learners' pages and administration
                *programs.HANDLERS,
                # Exemptions and extensions (issue 18): the queue, the emailed link, the form.
                *exemptions.HANDLERS,
                *admin_webhooks.HANDLERS,
            ],
            dependencies={"actor": Provide(provide_page_actor)},
            include_in_schema=False,
        ),
        Router(
            path="/",
            route_handlers=[
                *login.SSO_HANDLERS,
                *passwords.HANDLERS,
                audit.audit_page,
                # Account requests: the public form and its confirmation link.
                *account_requests.PUBLIC_HANDLERS,
                # Certificates (issue 18): the public verification page.
                *certificates.PUBLIC_HANDLERS,
            ],
            include_in_schema=False,
        ),
        calendar.calendar_feed,
    ]
