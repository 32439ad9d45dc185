"""Account requests waiting in the training team's queue: people without an account (a partner's
carer, an agency worker) who asked for one and confirmed their email, as the public form does."""

from __future__ import annotations

from sqlalchemy import select

from booking import people
from booking.clock import Clock
from booking.db import Database
from booking.models import AccountRequest

REQUESTS = [
    people.AccountRequestInput(
        name="Rae Okafor",
        email="rae.okafor@brightcare.example",
        organisation="Brightcare Homecare (partner provider)",
        org_unit_text="Reablement and Home Care",
        job_role="Care Worker",
        staff_type="external",
        manager_email="",
        reason="Our carers join the council's Manual Handling and Safeguarding Adults sessions.",
    ),
    people.AccountRequestInput(
        name="Tom Becker",
        email="tom.becker@agency.example",
        organisation="Northbridge Staffing Agency",
        org_unit_text="Libraries and Culture",
        job_role="Library Assistant",
        staff_type="casual",
        manager_email="",
        reason="Agency worker at Central Library until March; needs Fire Marshal training.",
    ),
]


async def load_account_requests(db: Database, clock: Clock) -> None:
    """Each request sent and its emailed link opened: both wait for a decision."""
    settings = db.settings
    for sent in REQUESTS:
        await people.request_account(db, clock, settings, sent, ip=None)
        async with db.reading() as s:
            request_id = await s.scalar(
                select(AccountRequest.id).where(AccountRequest.email == sent.email)
            )
        assert request_id is not None
        token = people.confirmation_token(settings, request_id, sent.email, now=clock.now())
        await people.confirm_account_request(db, clock, settings, token, ip=None)
