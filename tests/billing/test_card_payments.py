"""Card payments through the real `stripe` SDK against localstripe on loopback: pay → signed
webhook → booked; cancel with a fee → partial refund; replayed, forged and out-of-order
webhooks change nothing; a bad signature is refused; a payment that never comes frees the seat."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import stripe
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from billing.domain.money import Money
from billing.models import LedgerEntry, PaymentAction, StripeEvent
from booking import catalogue, payments, people
from booking.app import create_app
from booking.catalogue import CourseInput
from booking.models import Booking, BookingHistory
from booking.models import Session as SessionRow
from tests import support
from tests.billing.conftest import WEBHOOK_SECRET, LocalStripe, stripe_settings
from tests.web.contract_check import Contract

POLICY = {
    "tiers": [
        {"min_notice_hours": 336, "fee_percent": 0},
        {"min_notice_hours": 168, "fee_percent": 50},
        {"min_notice_hours": 0, "fee_percent": 100},
    ],
    "no_show_fee_percent": 100,
}


@dataclass
class Shop:
    client: AsyncTestClient[Any]
    world: support.World
    settings: Any
    stripe: stripe.StripeClient
    ls: LocalStripe
    session_id: int
    token: str

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    async def book(self) -> dict[str, Any]:
        r = await self.client.post(
            f"/api/v1/sessions/{self.session_id}/bookings", json={}, headers=self.auth()
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def start(self, booking_id: int) -> str:
        """What the payment page does, with a test card attached at creation (localstripe
        cannot take it at confirmation); returns the PaymentIntent's id."""
        pm = await self.stripe.v1.payment_methods.create_async(
            params={
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            }
        )
        lee = await support.actor(self.world.db, "lee@example.org")
        page = await payments.payment_page(
            self.world.db,
            self.world.clock,
            lee,
            payments.billing_config(self.settings),
            booking_id,
            payment_method=pm.id,
        )
        assert page.client_secret
        return page.client_secret.split("_secret_")[0]

    async def pay(self, booking_id: int) -> str:
        """Confirm the intent server-side, as the browser's Payment Element would."""
        intent_id = await self.start(booking_id)
        confirmed = await self.stripe.v1.payment_intents.confirm_async(intent_id)
        assert confirmed.status == "succeeded"
        return intent_id

    async def deliver(self, sig: str, body: bytes) -> Any:
        return await self.client.post(
            "/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": sig, "Content-Type": "application/json"},
        )

    async def state(self, booking_id: int) -> str:
        async with self.world.db.reading() as s:
            return str(await s.scalar(select(Booking.state).where(Booking.id == booking_id)))

    async def counts(self) -> tuple[int, int, int, int]:
        async with self.world.db.reading() as s:
            return (
                int(await s.scalar(select(func.count()).select_from(LedgerEntry)) or 0),
                int(await s.scalar(select(func.count()).select_from(StripeEvent)) or 0),
                int(await s.scalar(select(func.count()).select_from(BookingHistory)) or 0),
                int(await s.scalar(select(func.count()).select_from(PaymentAction)) or 0),
            )


def sign(payload: bytes, secret: str = WEBHOOK_SECRET) -> str:
    """A Stripe-Signature header as Stripe computes it (for forged-content tests)."""
    ts = int(time.time())
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@contextlib.asynccontextmanager
async def open_shop(world: support.World, db_url: str, ls: LocalStripe) -> AsyncIterator[Shop]:
    settings = stripe_settings(db_url, ls)
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(
            code="EXT-1",
            title="Safeguarding for school staff",
            price=Money(6000),
            cancellation_policy=POLICY,
        ),
    )
    session_id = await support.make_session(
        world, course_id=course.id, capacity=1, start=world.clock.now() + timedelta(days=30)
    )
    token = await people.create_token(world.db, world.clock, email="lee@example.org")
    http = stripe.HTTPXClient()
    client_stripe = stripe.StripeClient(
        "sk_test_billing", http_client=http, base_addresses={"api": ls.url}
    )
    app = create_app(settings, clock=world.clock, run_worker=False)
    try:
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
            yield Shop(client, world, settings, client_stripe, ls, session_id, token)
    finally:
        # Its connections to localstripe, left open, are reported as unclosed transports.
        await http.close_async()


async def test_pay_then_the_signed_webhook_books_the_place(
    world: support.World, db_url: str, localstripe: LocalStripe
) -> None:
    async with open_shop(world, db_url, localstripe) as shop:
        booking = await shop.book()
        assert booking["state"] == "pending_payment"
        async with world.db.reading() as s:
            held = await s.scalar(
                select(SessionRow.seats_held).where(SessionRow.id == shop.session_id)
            )
        assert held == 1  # the seat is held while the learner pays
        intent_id = await shop.pay(booking["id"])
        sig, body = await localstripe.webhooks.wait_for("payment_intent.succeeded", intent_id)
        answer = await shop.deliver(sig, body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "booked"
        assert await shop.state(booking["id"]) == "booked"
        async with world.db.reading() as s:
            kinds = (await s.scalars(select(LedgerEntry.kind))).all()
        assert kinds == ["charge"]
        api = await shop.client.get(
            f"/api/v1/bookings/{booking['id']}/payment", headers=shop.auth()
        )
        assert api.status_code == 200, api.text
        assert api.json()["amount"] == {"amount": 6000, "currency": "GBP"}
        assert api.json()["status"] == "succeeded"
        # The answer is what the OpenAPI document says (tests/web/test_learning_contract.py).
        contract = Contract(shop.client.app, [("GET", "/api/v1/bookings/{booking_id}/payment")])
        await contract.hook(api)
        assert contract.seen == {("GET", "/api/v1/bookings/{booking_id}/payment")}


async def test_replayed_forged_and_out_of_order_webhooks_change_nothing(
    world: support.World, db_url: str, localstripe: LocalStripe
) -> None:
    async with open_shop(world, db_url, localstripe) as shop:
        booking = await shop.book()
        intent_id = await shop.start(booking["id"])
        # Before paying: a correctly signed event whose payload claims success. The intent is
        # re-fetched from Stripe, which says it is not paid: nothing happens.
        forged = event_json("evt_forged_1", "payment_intent.succeeded", intent_id, "succeeded")
        answer = await shop.deliver(sign(forged), forged)
        assert answer.status_code == 200, answer.text
        assert await shop.state(booking["id"]) == "pending_payment"

        confirmed = await shop.stripe.v1.payment_intents.confirm_async(intent_id)
        assert confirmed.status == "succeeded"
        sig, body = await localstripe.webhooks.wait_for("payment_intent.succeeded", intent_id)
        assert (await shop.deliver(sig, body)).json()["outcome"] == "booked"
        before = await shop.counts()
        # The same event again: acknowledged, nothing done.
        again = await shop.deliver(sig, body)
        assert again.status_code == 200 and again.json()["outcome"] == "already processed"
        # An older "payment failed" event arriving after the success: Stripe says succeeded.
        stale = event_json(
            "evt_stale_failed",
            "payment_intent.payment_failed",
            intent_id,
            "requires_payment_method",
        )
        late = await shop.deliver(sign(stale), stale)
        assert late.status_code == 200
        # The forged success, replayed now that the intent really succeeded: already seen.
        assert (await shop.deliver(sign(forged), forged)).json()["outcome"] == "already processed"
        assert await shop.state(booking["id"]) == "booked"
        ledger, events, history, actions = await shop.counts()
        assert (ledger, history, actions) == (before[0], before[2], before[3])
        assert events == before[1] + 1  # the stale event is recorded as seen, and changed nothing


def event_json(event_id: str, event_type: str, intent_id: str, status: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "data": {"object": {"id": intent_id, "object": "payment_intent", "status": status}},
        }
    ).encode()


async def test_a_bad_signature_is_refused_and_changes_nothing(
    world: support.World, db_url: str, localstripe: LocalStripe
) -> None:
    async with open_shop(world, db_url, localstripe) as shop:
        booking = await shop.book()
        intent_id = await shop.pay(booking["id"])
        sig, body = await localstripe.webhooks.wait_for("payment_intent.succeeded", intent_id)
        before = await shop.counts()
        tampered = body.replace(b'"livemode"', b'"livemode" ', 1)
        for headers_sig, payload in (
            (sig, tampered),
            (sign(body, "whsec_someone_else"), body),
            ("", body),
        ):
            answer = await shop.deliver(headers_sig, payload)
            assert answer.status_code == 400, answer.text
        assert await shop.counts() == before
        assert await shop.state(booking["id"]) == "pending_payment"


async def test_cancelling_with_a_fee_refunds_the_rest_of_the_payment(
    world: support.World, db_url: str, localstripe: LocalStripe
) -> None:
    async with open_shop(world, db_url, localstripe) as shop:
        booking = await shop.book()
        intent_id = await shop.pay(booking["id"])
        sig, body = await localstripe.webhooks.wait_for("payment_intent.succeeded", intent_id)
        assert (await shop.deliver(sig, body)).status_code == 200
        # Ten days before the start: the 50 % tier.
        world.clock.advance(timedelta(days=20))
        quote = await shop.client.get(
            f"/api/v1/bookings/{booking['id']}/cancellation-quote", headers=shop.auth()
        )
        assert quote.status_code == 200
        q = quote.json()
        assert q["fee"] == {"amount": 3000, "currency": "GBP"}
        assert q["refund"] == {"amount": 3000, "currency": "GBP"}
        assert q["policy_tier"]["fee_percent"] == 50 and q["free_until"] is None
        # A stale quote (the free one) is refused, not charged.
        stale = await shop.client.post(
            f"/api/v1/bookings/{booking['id']}/cancel",
            json={"reason": "Illness", "quoted_fee": {"amount": 0, "currency": "GBP"}},
            headers=shop.auth(),
        )
        assert stale.status_code == 409
        cancelled = await shop.client.post(
            f"/api/v1/bookings/{booking['id']}/cancel",
            json={"reason": "Illness", "quoted_fee": q["fee"]},
            headers=shop.auth(),
        )
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["fee"] == {"amount": 3000, "currency": "GBP"}
        # The refund is made after commit, by the worker's billing step.
        await payments.run_sweeps(world.db, world.clock, shop.settings)
        async with world.db.reading() as s:
            action = await s.scalar(select(PaymentAction))
            rows = (
                await s.execute(
                    select(LedgerEntry.kind, LedgerEntry.amount).order_by(LedgerEntry.id)
                )
            ).all()
        assert action is not None and action.status == "done" and action.amount == 3000
        refund = await shop.stripe.v1.refunds.retrieve_async(action.stripe_id or "")
        assert refund.amount == 3000 and refund.payment_intent == intent_id
        assert [tuple(r) for r in rows] == [
            ("charge", 6000),
            ("refund", -6000),
            ("cancellation_fee", 3000),
        ]
        # Running the worker again refunds nothing more.
        await payments.run_sweeps(world.db, world.clock, shop.settings)
        async with world.db.reading() as s:
            assert await s.scalar(select(func.count()).select_from(PaymentAction)) == 1
        got = await shop.client.get(f"/api/v1/bookings/{booking['id']}", headers=shop.auth())
        assert got.json()["fee"] == {"amount": 3000, "currency": "GBP"}


async def test_a_payment_that_never_arrives_releases_the_seat(
    world: support.World, db_url: str, localstripe: LocalStripe
) -> None:
    async with open_shop(world, db_url, localstripe) as shop:
        booking = await shop.book()
        page = await shop.client.get(
            f"/api/v1/bookings/{booking['id']}/payment", headers=shop.auth()
        )
        intent_id = page.json()["client_secret"].split("_secret_")[0]
        world.clock.advance(timedelta(minutes=29))
        await payments.run_sweeps(world.db, world.clock, shop.settings)
        assert await shop.state(booking["id"]) == "pending_payment"
        world.clock.advance(timedelta(minutes=1))
        await payments.run_sweeps(world.db, world.clock, shop.settings)
        assert await shop.state(booking["id"]) == "cancelled"
        async with world.db.reading() as s:
            held = await s.scalar(
                select(SessionRow.seats_held).where(SessionRow.id == shop.session_id)
            )
        assert held == 0
        intent = await shop.stripe.v1.payment_intents.retrieve_async(intent_id)
        assert intent.status == "canceled"
        # The seat is free for the next learner.
        kim = await people.create_token(world.db, world.clock, email="kim@example.org")
        r = await shop.client.post(
            f"/api/v1/sessions/{shop.session_id}/bookings", json={}, headers=shop.auth(kim)
        )
        assert r.status_code == 201 and r.json()["state"] == "pending_payment"
