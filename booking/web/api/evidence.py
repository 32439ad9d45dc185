"""API: evidence of training done elsewhere (send, the deciders' queue, decide, the file) and
certificates as PDF."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter

from booking import records
from booking.clock import Clock
from booking.db import Database
from booking.domain.vocabulary import Decision
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError, TooLargeError
from booking.web.api.openapi_learning import (
    BinaryFile,
    EvidenceFileOperation,
    EvidenceFormOperation,
)
from booking.web.api.schemas import NO_NUL, text

# The whole multipart body: the file at its limit, plus the other fields and the part headers.
# A bigger body is refused (413) by Litestar as it arrives, before it is all read.
MAX_EVIDENCE_BODY = records.MAX_EVIDENCE_BYTES + 200_000
MAX_FIELD = 4000


class EvidenceDecisionIn(msgspec.Struct):
    decision: Decision
    comment: Annotated[str, text(records.MAX_EVIDENCE_COMMENT)] | None = None


def parse_completed_at(value: str) -> datetime | None:
    """An RFC 3339 moment (with its offset), or a date (`YYYY-MM-DD`, the date input of the
    pages: the start of that day, UTC). Empty: None."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidError(
            "Give the completion date as an RFC 3339 date and time with its offset, "
            "such as 2026-11-20T09:00:00Z.",
            "completed_at",
        )
    return moment.astimezone(UTC)


async def read_upload(request: Request[Any, Any, Any]) -> records.EvidenceUpload:
    """The multipart form's fields and file, the file read up to one byte past its limit."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if any(len(v) > MAX_FIELD for v in fields.values()):
        raise InvalidError("A field is too long.", "note")
    upload = form.get("file")
    content = b""
    filename = None
    if isinstance(upload, UploadFile):
        content = await upload.read(records.MAX_EVIDENCE_BYTES + 1)
        filename = upload.filename
        if len(content) > records.MAX_EVIDENCE_BYTES:
            raise TooLargeError("The file is larger than 10 MB: send a smaller one.")
    return records.EvidenceUpload(
        course_code=fields.get("course_code", ""),
        completed_at=parse_completed_at(fields.get("completed_at", "")),
        note=fields.get("note"),
        filename=filename,
        content=content,
    )


@post(
    "/me/evidence",
    summary="Send evidence of training done elsewhere (multipart: course_code, completed_at, "
    "note, file)",
    status_code=201,
    request_max_body_size=MAX_EVIDENCE_BODY,
    operation_class=EvidenceFormOperation,
)
async def send_evidence(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> records.EvidenceView:
    return await records.send_evidence(db, clock, actor, await read_upload(request))


@get("/evidence", summary="Evidence waiting for me to decide (course owners, administrators)")
async def list_evidence(
    db: Database,
    actor: Actor,
    wanted: str | None = Parameter(
        query="state", required=False, max_length=10, pattern=NO_NUL, default="pending"
    ),
    cursor: str | None = Parameter(query="cursor", required=False, max_length=40),
) -> records.EvidencePage:
    return await records.evidence_queue(db, actor, state=wanted or None, cursor=cursor)


@get("/evidence/{evidence_id:int}", summary="One piece of evidence")
async def get_evidence(db: Database, actor: Actor, evidence_id: int) -> records.EvidenceView:
    return await records.get_evidence(db, actor, evidence_id)


@get(
    "/evidence/{evidence_id:int}/file",
    summary="The file sent as evidence",
    media_type="application/octet-stream",
    response_description="The file as it was sent: a PDF, PNG or JPEG image",
    operation_class=EvidenceFileOperation,
)
async def evidence_file(db: Database, actor: Actor, evidence_id: int) -> Response[BinaryFile]:
    return file_response(await records.evidence_file(db, actor, evidence_id))


def file_response(f: records.EvidenceFileView) -> Response[bytes]:
    """A stored file, offered as a download (never rendered inline: it is the sender's)."""
    return Response(
        f.content,
        media_type=f.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{f.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@post("/evidence/{evidence_id:int}/decision", summary="Approve or decline", status_code=200)
async def decide_evidence(
    db: Database, clock: Clock, actor: Actor, evidence_id: int, data: EvidenceDecisionIn
) -> records.EvidenceView:
    return await records.decide_evidence(db, clock, actor, evidence_id, data.decision, data.comment)


def pdf_response(f: records.CertificateFile) -> Response[bytes]:
    return Response(
        f.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{f.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@get(
    "/certificates/{certificate_id:int}",
    summary="A certificate of completion as PDF",
    media_type="application/pdf",
    response_description="The certificate (PDF)",
)
async def certificate_pdf(
    request: Request[Any, Any, Any], db: Database, actor: Actor, certificate_id: int
) -> Response[BinaryFile]:
    base_url = str(request.app.state.settings.base_url)
    return pdf_response(await records.certificate_pdf(db, actor, certificate_id, base_url=base_url))


HANDLERS = [
    send_evidence,
    list_evidence,
    get_evidence,
    evidence_file,
    decide_evidence,
    certificate_pdf,
]
