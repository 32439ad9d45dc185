"""Demo data: the Learning & Development catalogue of a fictional council, Northbridge City Council.

Everything goes through the services, as an administrator and as the learners themselves would do
it, so the demo exercises the same rules as real use (capacity, waiting lists, offers, cancelled
sessions). Dates are laid out from today in Europe/London, so the catalogue always looks upcoming,
and the same clock always gives the same data. What has already happened (`history`: past
sessions, approvals in flight, cost codes and spend, mandatory learning, certifications in every
state, e-learning completions) is played with a clock set back to when it happened.
"""

from booking.demo.courses import COURSES, ROOMS
from booking.demo.dates import bank_holidays, next_clock_change, plan_dates, working_days
from booking.demo.load import load_demo
from booking.demo.organisation import ADMIN_EMAIL, ORG_UNITS, PEOPLE
from booking.demo.sessions import SESSIONS, PlannedSession

__all__ = [
    "ADMIN_EMAIL",
    "COURSES",
    "ORG_UNITS",
    "PEOPLE",
    "ROOMS",
    "SESSIONS",
    "PlannedSession",
    "bank_holidays",
    "load_demo",
    "next_clock_change",
    "plan_dates",
    "working_days",
]
