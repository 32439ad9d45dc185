"""Why something was refused: a code for machines and a plain sentence for a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# 409: the state of things; 422: who the learner is or what they sent.
CONFLICT = 409
UNPROCESSABLE = 422


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    status: int = CONFLICT
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def status_for(reasons: list[Reason]) -> int:
    """Eligibility (422) outranks state (409): fixing who you are comes before timing."""
    return UNPROCESSABLE if any(r.status == UNPROCESSABLE for r in reasons) else CONFLICT
