"""The worker: periodic sweeps (and, with the notifications issue, outbox delivery).

Every sweep is computed from the database and re-checks state under a lock, so several workers,
or a worker restarted mid-tick, do no harm.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from booking.clock import Clock
from booking.db import Database
from booking.services import bookings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TickReport:
    offers_expired: int = 0
    waitlists_closed: int = 0


async def tick(db: Database, clock: Clock) -> TickReport:
    """One pass of every sweep."""
    return TickReport(
        offers_expired=await bookings.expire_offers(db, clock),
        waitlists_closed=await bookings.close_started_waitlists(db, clock),
    )


async def run_forever(db: Database, clock: Clock, interval: float) -> None:
    while True:
        try:
            report = await tick(db, clock)
            if report.offers_expired or report.waitlists_closed:
                log.info("worker tick: %s", report)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed tick must not stop the loop; the next one retries
            log.exception("worker tick failed")
        await asyncio.sleep(interval)
