"""The catalogue: courses, sessions, their dates, rooms and trainers.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.catalogue.service import (
    _UNSET,
    CourseInput,
    DateInput,
    RoomInput,
    SessionChanges,
    SessionInput,
    SessionView,
    cancel_session,
    count_table,
    create_course,
    create_session,
    get_course,
    get_session,
    list_courses,
    roster,
    roster_and_move_targets,
    search_courses,
    sign_up_form,
    update_course,
    update_session,
)

__all__ = [
    "CourseInput",
    "DateInput",
    "RoomInput",
    "SessionChanges",
    "SessionInput",
    "SessionView",
    "_UNSET",
    "cancel_session",
    "count_table",
    "create_course",
    "create_session",
    "get_course",
    "get_session",
    "list_courses",
    "roster",
    "roster_and_move_targets",
    "search_courses",
    "sign_up_form",
    "update_course",
    "update_session",
]
