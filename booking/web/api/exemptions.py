"""API: exemptions and extensions of required learning (API.md, "Mandatory learning")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.params import Parameter

from booking import records
from booking.clock import Clock
from booking.db import Database
from booking.domain.exemptions import MAX_COMMENT, MAX_REASON, STATES
from booking.domain.learning_vocabulary import ExemptionKind
from booking.domain.vocabulary import Decision
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError
from booking.web.api.answers_learning import ExemptionPage
from booking.web.api.schemas import CourseCode, Email, text


class ExemptionIn(msgspec.Struct):
    learner_email: Email
    course_code: CourseCode
    kind: ExemptionKind
    reason: Annotated[str, text(MAX_REASON)]
    until: date | None = None
    due_at: datetime | None = None


class ExemptionDecisionIn(msgspec.Struct):
    decision: Decision
    comment: Annotated[str, text(MAX_COMMENT)] | None = None


def _aware(moment: datetime | None) -> datetime | None:
    """RFC 3339 times carry their offset; one without is read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@post("/exemptions", summary="Ask for an exemption or an extension", status_code=201)
async def create_exemption(
    db: Database, clock: Clock, actor: Actor, data: ExemptionIn
) -> records.ExemptionView:
    (view,) = await records.request_exemptions(
        db,
        clock,
        actor,
        records.ExemptionInput(
            learner_email=data.learner_email,
            course_codes=[data.course_code],
            kind=data.kind,
            reason=data.reason,
            until=data.until,
            due_at=_aware(data.due_at),
        ),
    )
    return view


@get("/exemptions", summary="Exemption and extension requests I may decide or made")
async def list_exemptions(
    db: Database,
    actor: Actor,
    state_filter: str | None = Parameter(query="state", required=False, max_length=20),
) -> ExemptionPage:
    state = state_filter
    if state is not None and state not in STATES:
        raise InvalidError("state must be pending, approved or declined.", "state")
    items = await records.list_exemptions(db, actor, state=state)
    return ExemptionPage([i.request for i in items])


@post(
    "/exemptions/{exemption_id:int}/decision",
    summary="Approve or decline an exemption or extension",
    status_code=200,
)
async def decide_exemption(
    db: Database, clock: Clock, actor: Actor, exemption_id: int, data: ExemptionDecisionIn
) -> records.ExemptionView:
    return await records.decide_exemption(
        db, clock, actor, exemption_id, decision=data.decision, comment=data.comment
    )


HANDLERS = [create_exemption, list_exemptions, decide_exemption]
