"""The worker: outbox delivery and the periodic sweeps.

Every sweep is computed from the database and re-checks state under a lock (or is deduplicated
by the outbox's unique key), so several workers, or a worker restarted mid-tick, do no harm.

Stopping (SIGTERM, or the app's shutdown when the worker runs inline): no new tick starts; the
message being sent when the signal came is finished and marked sent; the other messages this
worker had claimed are released at once, so another worker sends them without waiting for the
claim to lapse. A worker killed outright (SIGKILL, power loss) releases nothing, but it stops
renewing its claims (booking/kernel/claims.py: a short lease, `BOOKING_WORKER_CLAIM_LEASE`,
renewed by a heartbeat while the worker delivers), so they lapse within one lease and another
worker sends them; a message it had sent but not yet marked is sent again with the same
Message-ID (delivery is at least once; receivers drop the repeat by its Message-ID).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from booking import approvals, bookings, notifications, payments, records, roster, webhooks
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database, describe, is_unavailable
from booking.kernel.claims import restore_released
from booking.mailer import Mailer, mailer_for

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TickReport:
    offers_expired: int = 0
    waitlists_closed: int = 0
    approvals_lapsed: int = 0
    reminders_queued: int = 0
    requirements_changed: int = 0
    sent: int = 0
    send_failures: int = 0
    # programs: assignments made, closed or reopened by the programs' audiences
    programs_synced: int = 0
    # Outgoing webhooks (issue 19): events delivered (2xx) and attempts that failed.
    webhooks_delivered: int = 0
    webhook_failures: int = 0


async def tick(
    db: Database, clock: Clock, settings: Settings | None = None, mailer: Mailer | None = None
) -> TickReport:
    """One pass of every sweep, then delivery of what is due (when a mailer is configured)."""
    report = TickReport(
        offers_expired=await bookings.expire_offers(db, clock),
        waitlists_closed=await bookings.close_started_waitlists(db, clock),
        approvals_lapsed=await approvals.lapse_requests(db, clock),
        # programs: who each learning program applies to
        programs_synced=await records.sync_program_assignments(db, clock),
    )
    # Who must complete what (issue 18): before the reminders that chase it.
    report.requirements_changed = await records.sweep_requirements(db, clock)
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
            + await records.queue_certification_notices(db, clock)
            + await records.queue_requirement_reminders(db, clock)
            + await records.queue_compliance_summaries(
                db, clock, day=settings.compliance_summary_day
            )
        )
        if settings.lrs_url:
            # xAPI statements for the learning record store (outbox channel "xapi").
            await records.sync_xapi(db, clock, settings)
        # Card payment holds that ran out, refunds owed, then the queued Stripe calls.
        await payments.run_sweeps(db, clock, settings)
        # Webhook events to the endpoints administrators registered (outbox channel "webhook").
        hooks = await webhooks.deliver_webhooks(db, clock, settings)
        report.webhooks_delivered, report.webhook_failures = hooks.delivered, hooks.failed
        if mailer is not None:
            delivery = await notifications.deliver_due(db, clock, settings, mailer)
            report.sent, report.send_failures = delivery.sent, delivery.failed
    return report


class WorkerStopping(Exception):
    """Raised instead of sending once the worker has been asked to stop."""


class StoppableMailer:
    """Sends until `stop` is set, then refuses, so that `deliver_due` releases the rest of its
    claimed rows through its own failure path (which clears `claimed_until` and `claim_token`
    for exactly its claim token). The refusal carries a marker unique to this worker, so the
    release's back-off and attempt count can be undone afterwards
    (`claims.restore_released`)."""

    def __init__(self, inner: Mailer, stop: asyncio.Event, marker: str) -> None:
        self.inner = inner
        self.stop = stop
        self.marker = marker
        self.refused = 0

    async def send(self, message: EmailMessage) -> None:
        if self.stop.is_set():
            self.refused += 1
            raise WorkerStopping(self.marker)
        await self.inner.send(message)

    @property
    def last_error(self) -> str:
        # What `deliver_due` records on a row whose send failed with this exception.
        return f"{WorkerStopping.__name__}: {self.marker}"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def run_forever(
    db: Database, clock: Clock, settings: Settings, *, stop: asyncio.Event | None = None
) -> None:
    """Tick every `worker_interval` seconds until `stop` is set; then finish the tick in hand
    (see the module's docstring) and return. Cancelling the task stops at once instead."""
    stop = stop or asyncio.Event()
    name = worker_name()
    smtp = mailer_for(settings)
    mailer: StoppableMailer | None = None
    if smtp is None:
        log.info("no SMTP server configured: messages stay in the outbox (admin outbox page)")
    else:
        mailer = StoppableMailer(
            smtp, stop, f"worker {name} stopped before sending; released for another worker"
        )
    log.info("worker %s started (every %ss)", name, settings.worker_interval)
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
                    report.webhooks_delivered,
                    report.webhook_failures,
                )
            ):
                log.info("worker tick: %s", report)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed tick must not stop the loop; the next one retries
            if is_unavailable(exc):
                log.warning("worker tick skipped, the database is not answering: %s", describe(exc))
            else:
                log.exception("worker tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.worker_interval)
    released = 0
    if mailer is not None and mailer.refused:
        try:
            released = await restore_released(db, clock, mailer.last_error)
        except Exception as exc:  # they stay due after their back-off: nothing is lost
            log.warning("could not hand back released messages at once: %s", describe(exc))
    log.info("worker %s stopped; %d claimed messages released unsent", name, released)


async def stop_gracefully(task: asyncio.Task[None], stop: asyncio.Event, grace: float) -> None:
    """Ask the worker to stop and wait up to `grace` seconds for its current tick (a send in
    progress, then releasing the rest); past that, cancel it (its claims then lapse)."""
    stop.set()
    if task.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=grace)
    except TimeoutError:
        log.warning("worker still busy after %ss; cancelled (its claims lapse)", grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
