"""OpenAPI examples for the main booking operations: what a client sends. (Answers have none:
the document leaves out an example's null values, so an answer's example would lack the
fields that are null and contradict its own schema.) tests/web/test_api_types_core.py holds
each to the document's schema."""

from __future__ import annotations

from litestar.openapi.spec import Example

BOOK_REQUEST = Example(
    summary="Book a place for myself",
    value={
        "accept_terms": True,
        "answers": {"diet": "Vegetarian", "first": True},
        "special_requirements": "Step-free access",
    },
)

COURSE_REQUEST = Example(
    summary="A course with a cancellation policy and an audience",
    value={
        "code": "MH-1",
        "title": "Moving and Handling",
        "summary": "Safe lifting for care staff",
        "price": {"amount": 6000, "currency": "GBP"},
        "approval": ["manager"],
        "cancellation_policy": {
            "tiers": [{"min_notice_hours": 72, "fee_percent": 50}],
            "no_show_fee_percent": 100,
        },
        "audience": {"org_units": ["ADULT"], "staff_types": ["payroll", "casual"]},
        "prerequisites": [{"course_code": "SAFE-1", "within_months": 24}],
        "questions": [{"id": "diet", "label": "Dietary needs?", "kind": "text"}],
    },
)
