"""Delivering queued xAPI statements to the learning record store (the worker's xAPI step)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from booking import xapi
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import claims, tx
from booking.records.xapi_statements import XAPI_CHANNEL
from booking.records.xapi_sweep import queue_xapi_statements

XAPI_MAX_ATTEMPTS = 10


@dataclass(slots=True)
class XapiDelivery:
    sent: int = 0
    failed: int = 0


async def sync_xapi(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> XapiDelivery:
    """The worker's xAPI step: queue new statements, then deliver what is due."""
    if not settings.lrs_url:
        return XapiDelivery()
    await queue_xapi_statements(db, clock, settings)
    return await deliver_xapi(db, clock, settings, transport=transport)


async def deliver_xapi(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    limit: int = 100,
) -> XapiDelivery:
    """PUT each due statement to the LRS under its own id (HTTP Basic, xAPI 1.0.3). 200 and
    204 (the LRS already has this very statement) are delivered; 409 (a different statement
    holds the id) fails the row for an administrator to look at; anything else is retried."""
    report = XapiDelivery()
    if not settings.lrs_url:
        return report
    # The claim runs its own transaction.
    claim = await claims.claim(
        db, clock, channel=XAPI_CHANNEL, limit=limit, lease_seconds=settings.worker_claim_lease
    )
    token = claim.token
    claimed = [(row_id, dict(payload["statement"])) for row_id, payload in claim.rows]
    if not claimed:
        return report
    # The claims are renewed while the statements go out (claims.heartbeat): a slow LRS does
    # not lose them to another worker; a killed worker's lapse within one lease.
    async with (
        claims.heartbeat(db, clock, token, claim.lease),
        _lrs_client(settings, transport) as client,
    ):
        url = _statements_url(settings.lrs_url)
        for row_id, statement in claimed:
            if await _deliver(db, clock, client, url, row_id, token, statement):
                report.sent += 1
            else:
                report.failed += 1
    return report


def _statements_url(lrs_url: str) -> str:
    url = lrs_url.rstrip("/")
    if not url.endswith("/statements"):
        url += "/xAPI/statements" if not url.endswith("/xAPI") else "/statements"
    return url


def _lrs_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    auth = (
        httpx.BasicAuth(settings.lrs_username, settings.lrs_password or "")
        if settings.lrs_username
        else None
    )
    return httpx.AsyncClient(
        timeout=15,
        auth=auth,
        transport=transport,
        headers={"X-Experience-API-Version": xapi.VERSION},
    )


async def _deliver(
    db: Database,
    clock: Clock,
    client: httpx.AsyncClient,
    url: str,
    row_id: int,
    token: str,
    statement: dict[str, Any],
) -> bool:
    """PUT one statement and settle its outbox row; True if the LRS has it."""
    done = partial(claims.finish, clock=clock, row_id=row_id, token=token)
    again = partial(
        claims.release, clock=clock, row_id=row_id, token=token, max_attempts=XAPI_MAX_ATTEMPTS
    )
    try:
        response = await client.put(url, params={"statementId": statement["id"]}, json=statement)
    except httpx.HTTPError as exc:
        await tx.run(db, partial(again, error=repr(exc)))
        return False
    if response.status_code in (200, 204):
        await tx.run(db, done)
        return True
    if response.status_code == 409:
        error = f"409 from the LRS: another statement has id {statement['id']}"
        await tx.run(db, partial(done, error=error))
        return False
    detail = f"{response.status_code} from the LRS: {response.text[:500]}"
    await tx.run(db, partial(again, error=detail))
    return False
