"""What Litestar cannot infer for the records and money operations, told to the OpenAPI
document: file answers as binary strings, the evidence file's three media types, and the bodies
the handlers read themselves (a CSV file; the evidence form, read with its size limits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import KwargDefinition

from booking.domain.evidence import EXTENSIONS

# A file answer: a binary string in the document, under the handler's real media type.
BinaryFile = Annotated[bytes, KwargDefinition(format=OpenAPIFormat.BINARY)]
EVIDENCE_MEDIA_TYPES = tuple(EXTENSIONS)
_TEXT = Schema(type=OpenAPIType.STRING)
_BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
CSV_BODY = RequestBody(
    content={"text/csv": OpenAPIMediaType(schema=_TEXT)},
    description="A CSV file (UTF-8) with a header row.",
    required=True,
)
EVIDENCE_FORM = RequestBody(
    content={
        "multipart/form-data": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "course_code": _TEXT,
                    "completed_at": Schema(
                        type=OpenAPIType.STRING,
                        description="RFC 3339 date and time with its offset, or YYYY-MM-DD",
                    ),
                    "note": _TEXT,
                    "file": Schema(
                        type=OpenAPIType.STRING,
                        format=OpenAPIFormat.BINARY,
                        description="A PDF, PNG or JPEG file, up to 10 MB",
                    ),
                },
                required=["course_code", "completed_at", "file"],
            )
        )
    },
    required=True,
)


@dataclass
class EvidenceFileOperation(Operation):
    """The evidence file's operation: its answer is a PDF, PNG or JPEG (what was sent), so the
    document lists the three media types, each a binary string."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content:
            ok.content = {t: OpenAPIMediaType(schema=_BINARY) for t in EVIDENCE_MEDIA_TYPES}


@dataclass
class CsvUploadOperation(Operation):
    """An import whose body is a CSV file the handler reads itself."""

    def __post_init__(self) -> None:
        self.request_body = CSV_BODY


@dataclass
class EvidenceFormOperation(Operation):
    """Sending evidence: a multipart form the handler reads itself (within its size limits)."""

    def __post_init__(self) -> None:
        self.request_body = EVIDENCE_FORM
