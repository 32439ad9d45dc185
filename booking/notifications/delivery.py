"""Delivering the outbox's email: claim due rows, send each, mark it sent or let it wait.

A worker claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never hold the
same row) under a short lease its heartbeat renews (booking/kernel/claims.py), sends, then marks
the row sent only if it still holds the claim. A worker that dies between sending and marking
leaves the claim to lapse within one lease; the row is sent again with the same Message-ID, so
receivers can drop the duplicate. After success a row is never sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from functools import partial

from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import claims, tx
from booking.mailer import Mailer
from booking.models import Outbox
from booking.notifications.messages import to_email
from booking.notifications.render import render_row

# The logger keeps the name it had before the package was split, so log filters still match.
log = logging.getLogger("booking.notifications.service")

# The default lease of a claimed row (BOOKING_WORKER_CLAIM_LEASE); renewed while the worker
# lives (see booking/kernel/claims.py).
CLAIM_LEASE = claims.DEFAULT_LEASE
MAX_ATTEMPTS = 8


@dataclass(slots=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    # Rows left unsent because this worker's claim lapsed before their turn (another worker
    # may hold them now).
    lapsed: int = 0


async def deliver_due(
    db: Database,
    clock: Clock,
    settings: Settings,
    mailer: Mailer,
    *,
    limit: int = 50,
    heartbeat_every: float | None = None,
) -> DeliveryReport:
    """Claim due email rows, send each, mark it sent. Failures wait with backoff. The claims
    are renewed while this runs (`claims.heartbeat`; `heartbeat_every` seconds, by default a
    third of the lease), so only a worker that stops answering loses them."""
    report = DeliveryReport()
    # The claim runs its own transaction (the kernel owns the outbox's delivery columns).
    claim = await claims.claim(
        db, clock, channel="email", limit=limit, lease_seconds=settings.worker_claim_lease
    )
    report.claimed = len(claim.rows)
    if not claim.rows:
        return report
    async with claims.heartbeat(db, clock, claim.token, claim.lease, every=heartbeat_every):
        for row_id, _ in claim.rows:
            await _deliver_one(db, clock, settings, mailer, row_id, claim.token, report)
    return report


async def _deliver_one(
    db: Database,
    clock: Clock,
    settings: Settings,
    mailer: Mailer,
    row_id: int,
    token: str,
    report: DeliveryReport,
) -> None:
    """Send one claimed row and count what became of it."""
    try:
        message = await _message_if_held(db, clock, settings, row_id, token)
        if message is None:
            report.lapsed += 1
            return
        await mailer.send(message)
    except Exception as exc:  # any failure: the row waits and is tried again
        log.warning("outbox row %s not sent: %s", row_id, exc)
        error = f"{type(exc).__name__}: {exc}"
        again = partial(claims.release, clock=clock, row_id=row_id, token=token, error=error)
        await tx.run(db, partial(again, max_attempts=MAX_ATTEMPTS))
        report.failed += 1
        return
    if await tx.run(db, partial(claims.finish, clock=clock, row_id=row_id, token=token)):
        report.sent += 1


async def _message_if_held(
    db: Database, clock: Clock, settings: Settings, row_id: int, token: str
) -> EmailMessage | None:
    """The row's email, or None when this worker no longer holds the row's claim."""
    async with db.reading() as s:
        row = await s.get_one(Outbox, row_id)
        now = clock.now()
        # A worker stalled past its lease (no heartbeat got through) may have lost the row to
        # another worker; sending it here too would be a needless repeat.
        if not claims.still_held(row, token, now):
            return None
        return to_email(await render_row(s, row, settings, now), settings, now)
