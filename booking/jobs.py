"""The worker: outbox delivery and the periodic sweeps.

Every sweep is computed from the database and re-checks state under a lock (or is deduplicated
by the outbox's unique key), so several workers, or a worker restarted mid-tick, do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.mailer import Mailer, mailer_for
from booking.services import approvals, bookings, notifications, roster

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TickReport:
    offers_expired: int = 0
    waitlists_closed: int = 0
    approvals_lapsed: int = 0
    reminders_queued: int = 0
    sent: int = 0
    send_failures: int = 0


async def tick(
    db: Database, clock: Clock, settings: Settings | None = None, mailer: Mailer | None = None
) -> TickReport:
    """One pass of every sweep, then delivery of what is due (when a mailer is configured)."""
    report = TickReport(
        offers_expired=await bookings.expire_offers(db, clock),
        waitlists_closed=await bookings.close_started_waitlists(db, clock),
        approvals_lapsed=await approvals.lapse_requests(db, clock),
    )
    if settings is not None:
        report.reminders_queued = (
            await notifications.queue_reminders(
                db, clock, [timedelta(hours=h) for h in settings.reminder_hours]
            )
            + await notifications.queue_offer_expiring(db, clock)
            + await notifications.queue_roster_summaries(db, clock)
            + await approvals.remind_approvers(
                db, clock, timedelta(days=settings.approval_reminder_days)
            )
            + await roster.check_minimum_bookings(
                db, clock, days_before=settings.min_bookings_check_days
            )
        )
        if mailer is not None:
            delivery = await notifications.deliver_due(db, clock, settings, mailer)
            report.sent, report.send_failures = delivery.sent, delivery.failed
    return report


async def run_forever(
    db: Database, clock: Clock, settings: Settings, *, stop: asyncio.Event | None = None
) -> None:
    mailer = mailer_for(settings)
    if mailer is None:
        log.info("no SMTP server configured: messages stay in the outbox (admin outbox page)")
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            report = await tick(db, clock, settings, mailer)
            if any(
                (
                    report.offers_expired,
                    report.waitlists_closed,
                    report.approvals_lapsed,
                    report.sent,
                    report.send_failures,
                )
            ):
                log.info("worker tick: %s", report)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed tick must not stop the loop; the next one retries
            log.exception("worker tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.worker_interval)
