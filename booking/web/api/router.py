"""The JSON API v1, mounted: every handler under `/api/v1`, behind the bearer token's `actor`.

The handlers are thin — parse, call one service, shape the answer — one module per area. The
order below is the order of the OpenAPI document (docs/api.md follows it)."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from booking.web.api import (
    approvals,
    billing,
    bookings,
    courses,
    evidence,
    exemptions,
    people,
    programs,
    records,
    roster,
    sessions,
    webhooks,
)
from booking.web.deps import provide_api_actor


def api_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[
            people.me,
            bookings.my_bookings,
            people.put_org_units,
            people.put_people,
            courses.create_course,
            courses.update_course,
            courses.list_courses,
            courses.get_course,
            sessions.create_session,
            sessions.get_session,
            sessions.patch_session,
            sessions.cancel_session,
            roster.get_roster,
            bookings.create_booking,
            bookings.get_booking,
            bookings.cancel_booking,
            bookings.accept_offer,
            bookings.decline_offer,
            approvals.list_approvals,
            approvals.decide_approval,
            records.post_completions,
            courses.course_eligibility,
            roster.post_attendance,
            roster.move_booking,
            roster.message_attendees,
            roster.roster_csv,
            roster.sign_in_sheet,
            sessions.copy_session,
            roster.invite_waitlisted,
            roster.course_demand,
            billing.create_cost_code,
            billing.import_cost_codes,
            billing.list_cost_codes,
            billing.cancellation_quote,
            billing.booking_payment,
            billing.waive_fee,
            billing.journal_csv,
            records.records_api_router(),
            # Certificates and evidence (issue 18)
            *evidence.HANDLERS,
            # programs: learning programs (issue 18)
            programs.programs_api_router(),
            # exemptions and extensions (mandatory learning)
            *exemptions.HANDLERS,
            *webhooks.HANDLERS,
        ],
        dependencies={"actor": Provide(provide_api_actor)},
    )
