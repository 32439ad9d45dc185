"""The trainer's roster: attendance, moves, messages, sign-in sheets and demand.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.roster.reads import read_roster, roster_and_move_targets
from booking.roster.service import (
    SIGN_IN_COLUMNS_MM,
    Demand,
    Mark,
    check_minimum_bookings,
    copy_session,
    course_demand,
    invite_waitlisted,
    mark_all_attended,
    mark_attendance,
    message_attendees,
    move_booking,
    roster_csv,
    sign_in_sheet,
)

__all__ = [
    "Demand",
    "Mark",
    "SIGN_IN_COLUMNS_MM",
    "check_minimum_bookings",
    "copy_session",
    "course_demand",
    "invite_waitlisted",
    "mark_all_attended",
    "mark_attendance",
    "message_attendees",
    "move_booking",
    "read_roster",
    "roster_and_move_targets",
    "roster_csv",
    "sign_in_sheet",
]
