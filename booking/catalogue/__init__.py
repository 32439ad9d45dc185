"""The catalogue: courses, sessions, their dates, rooms and trainers.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own: `courses` (create, change), `course_admin` (the administrators' list, archive and
restore), `reads` (list, search, one course or session), `sessions` (schedule, cancel),
`session_changes` (change a session), `session_list` (the administrators' list of every
session), `rooms` (the rooms: list, create, change, calendar, the picker's choices), `signup`
(the sign-up form), `validation`, `dates`, `clashes`, `rooms_and_trainers`, `views`, `inputs`."""

from booking.catalogue.course_admin import (
    COURSE_STATUSES,
    CourseFilter,
    CourseList,
    CourseRow,
    admin_course_list,
    archive_course,
    restore_course,
)
from booking.catalogue.courses import AlsoInTransaction, create_course, update_course
from booking.catalogue.inputs import (
    UNSET,
    CourseInput,
    DateInput,
    DiscountInput,
    RoomDetails,
    RoomInput,
    SessionChanges,
    SessionInput,
)
from booking.catalogue.reads import (
    count_table,
    get_course,
    get_session,
    list_courses,
    search_courses,
)
from booking.catalogue.rooms import (
    RoomCalendar,
    RoomChoice,
    RoomSession,
    RoomSummary,
    create_room,
    get_room,
    list_rooms,
    room_calendar,
    room_choices,
    update_room,
)
from booking.catalogue.session_changes import update_session
from booking.catalogue.session_list import (
    ONLINE as ONLINE_ROOM,
)
from booking.catalogue.session_list import (
    Choice,
    SessionFilter,
    SessionListPage,
    list_sessions,
)
from booking.catalogue.sessions import cancel_session, create_session
from booking.catalogue.signup import sign_up_form
from booking.kernel.views import SessionView

__all__ = [
    "COURSE_STATUSES",
    "ONLINE_ROOM",
    "Choice",
    "SessionFilter",
    "SessionListPage",
    "list_sessions",
    "UNSET",
    "AlsoInTransaction",
    "CourseFilter",
    "CourseInput",
    "CourseList",
    "CourseRow",
    "DateInput",
    "DiscountInput",
    "RoomCalendar",
    "RoomChoice",
    "RoomDetails",
    "RoomInput",
    "RoomSession",
    "RoomSummary",
    "SessionChanges",
    "SessionInput",
    "SessionView",
    "admin_course_list",
    "archive_course",
    "cancel_session",
    "count_table",
    "create_course",
    "create_room",
    "create_session",
    "get_course",
    "get_room",
    "get_session",
    "list_courses",
    "list_rooms",
    "room_calendar",
    "room_choices",
    "search_courses",
    "sign_up_form",
    "restore_course",
    "update_course",
    "update_room",
    "update_session",
]
