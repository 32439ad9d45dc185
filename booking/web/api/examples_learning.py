"""OpenAPI examples for the main records and money operations: what an integrator sends and
gets back (tests/web/test_learning_contract.py checks each against its schema)."""

from __future__ import annotations

from typing import Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from booking import payments, records
from booking.web.api.answers_learning import CompletionsAnswer, CostCodePage

# Litestar leaves out null values in examples: these are chosen with none in required fields.
FEED = {
    "items": [
        {
            "cursor": "1042",
            "type": "completion",
            "learner": {"id": 17, "email": "lee@example.org", "personnel_number": "P003"},
            "course_code": "SAFE-1",
            "session_id": 88,
            "booking_id": 311,
            "status": "completed",
            "completed_at": "2027-03-04T16:00:00Z",
            "expires_at": "2030-03-04T16:00:00Z",
            "source": "workshop",
            "recorded_at": "2027-03-04T16:05:12Z",
        },
    ],
    "next_cursor": "1042",
}
COMPLETIONS_IN = [
    {
        "course_code": "SAFE-1",
        "completed_at": "2027-03-04T16:00:00Z",
        "learner_email": "lee@example.org",
        "source": "elearning",
    },
    {
        "course_code": "FIRE-1",
        "completed_at": "2027-03-05T10:30:00+00:00",
        "personnel_number": "P004",
    },
]
COMPLETIONS_OUT = {
    "accepted": 1,
    "results": [
        {"index": 0, "status": "accepted"},
        {"index": 1, "status": "duplicate", "message": "Already recorded."},
    ],
}
# Paid by card, three weeks ahead: free to cancel for one more week, all refunded.
QUOTE = {
    "fee": {"amount": 0, "currency": "GBP"},
    "refund": {"amount": 6000, "currency": "GBP"},
    "policy_tier": {
        "min_notice_hours": 336,
        "fee_percent": 0,
        "label": "At least 14 days' notice: 0%",
    },
    "free_until": "2027-03-15T09:00:00+00:00",
    "reason": "At least 14 days' notice: 0%",
    "terms": "Free to cancel until Mon 15 Mar 09:00, then £30.00 (50%) until Mon 22 Mar 09:00, "
    "then £60.00.",
}
COST_CODES = {
    "items": [
        {
            "code": "AS-4410",
            "description": "Adult Services training",
            "budget_holder_email": "bud@example.org",
            "annual_limit": {"amount": 250000, "currency": "GBP"},
            "year_start": "2027-04-01",
            "charges": {"amount": 18000, "currency": "GBP"},
            "fees": {"amount": 3000, "currency": "GBP"},
            "refunds_and_waivers": {"amount": 0, "currency": "GBP"},
            "total": {"amount": 21000, "currency": "GBP"},
            "committed": {"amount": 6000, "currency": "GBP"},
            "over_limit": False,
        }
    ],
    "next_cursor": None,
}


def example(value: Any, summary: str) -> Example:
    return Example(summary=summary, value=value)


def answer(container: type, value: Any, description: str) -> dict[int, ResponseSpec]:
    """The success answer (200) of an operation, with an example."""
    return {
        200: ResponseSpec(
            data_container=container,
            description=description,
            examples=[example(value, description)],
        )
    }


FEED_ANSWER = answer(records.FeedPage, FEED, "The changes after the cursor, oldest first")
COMPLETIONS_ANSWER = answer(CompletionsAnswer, COMPLETIONS_OUT, "A result for each completion")
QUOTE_ANSWER = answer(payments.QuoteView, QUOTE, "What cancelling now costs")
COST_CODES_ANSWER = answer(CostCodePage, COST_CODES, "Each cost code with its spend this year")
COMPLETIONS_BODY = [example(COMPLETIONS_IN, "Two completions, by email and by personnel number")]
