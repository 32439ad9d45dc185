"""The finance journal, for administrators (the API's export)."""

from __future__ import annotations

from datetime import datetime

from billing import services as billing
from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.payments.bridge import billing_errors


async def journal_csv(
    db: Database, clock: Clock, actor: Actor, start: datetime | None, end: datetime | None
) -> str:
    """The ledger from `start` to `end` as CSV: by default from the first of this month."""
    if not policy.can_manage_billing(actor):
        raise ForbiddenError("Only administrators export the journal.")
    today = clock.now().date()
    first = start.date() if start else today.replace(day=1)
    last = end.date() if end else today
    with billing_errors():
        async with db.reading() as s:
            return await billing.journal_csv(s, start=first, end=last)
