"""SQLAlchemy tables, one module per area. Timestamps are aware UTC (`timestamptz` on PostgreSQL).

The schema is built by Alembic (`alembic/versions`); `tests/integration/test_migrations.py` proves
these models and the migrations agree. Every table is imported here, so `Base.metadata` (what
Alembic compares) always holds them all, and callers import tables from `booking.models`.
"""

from booking.models.account_requests import AccountRequest
from booking.models.audit import AuditEvent
from booking.models.base import NAMING_CONVENTION, Base, BigId, JsonB
from booking.models.bookings import (
    ACTIVE_STATES,
    ApprovalRequest,
    Booking,
    BookingHistory,
    IdempotencyKey,
)
from booking.models.catalogue import Course, Room, Session, SessionDate, SessionFacilitator
from booking.models.evidence import Certificate, Evidence, EvidenceFile
from booking.models.exemptions import ExemptionRequest
from booking.models.outbox import Outbox
from booking.models.people import ApiToken, OrgUnit, Person
from booking.models.programs import Program, ProgramAssignment, ProgramSet
from booking.models.records import (
    Completion,
    CourseRecordRule,
    RecordChange,
    RecordFeedCounter,
    RecordSweepMark,
)
from booking.models.requirements import Requirement
from booking.models.signin import LocalCredential, PasswordReset, WebSession
from booking.models.webhooks import WebhookEndpoint

__all__ = [
    "AccountRequest",
    "ACTIVE_STATES",
    "NAMING_CONVENTION",
    "ApiToken",
    "ApprovalRequest",
    "AuditEvent",
    "Base",
    "BigId",
    "Booking",
    "Certificate",
    "BookingHistory",
    "Completion",
    "Course",
    "CourseRecordRule",
    "Evidence",
    "EvidenceFile",
    "ExemptionRequest",
    "IdempotencyKey",
    "JsonB",
    "LocalCredential",
    "OrgUnit",
    "Outbox",
    "PasswordReset",
    "Person",
    "Program",
    "ProgramAssignment",
    "ProgramSet",
    "RecordChange",
    "RecordFeedCounter",
    "RecordSweepMark",
    "Requirement",
    "Room",
    "Session",
    "SessionDate",
    "SessionFacilitator",
    "WebSession",
    "WebhookEndpoint",
]
