"""The trainer's roster: attendance, moves, messages, sign-in sheets and demand.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.roster.attendance import Mark, mark_all_attended, mark_attendance
from booking.roster.copies import copy_session
from booking.roster.demand import Demand, course_demand, invite_waitlisted
from booking.roster.exports import SIGN_IN_COLUMNS_MM, roster_csv, sign_in_sheet
from booking.roster.messages import message_attendees
from booking.roster.minimum import check_minimum_bookings
from booking.roster.moves import move_booking
from booking.roster.my_sessions import (
    LAST_PAGE,
    PAST_PAGE_SIZE,
    MySessions,
    TrainerSession,
    my_sessions,
)
from booking.roster.reads import read_roster, roster_and_move_targets

__all__ = [
    "LAST_PAGE",
    "PAST_PAGE_SIZE",
    "Demand",
    "Mark",
    "MySessions",
    "SIGN_IN_COLUMNS_MM",
    "TrainerSession",
    "check_minimum_bookings",
    "copy_session",
    "course_demand",
    "invite_waitlisted",
    "mark_all_attended",
    "mark_attendance",
    "message_attendees",
    "move_booking",
    "my_sessions",
    "read_roster",
    "roster_and_move_targets",
    "roster_csv",
    "sign_in_sheet",
]
