"""The only module that imports `stripe`: PaymentIntents, refunds, webhook signatures.

Each call opens its own `StripeClient` over httpx and closes it, so a gateway can be used from
any event loop (the web app's, the worker's, a test's). Every call that changes something at
Stripe carries a deterministic idempotency key chosen by the caller.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import stripe

from billing.services import GatewayError, Intent, SignatureError, WebhookEvent

# Network retries are the SDK's; safe because every mutating call has an idempotency key.
MAX_NETWORK_RETRIES = 2


class StripeGateway:
    def __init__(self, api_key: str, *, api_base: str | None = None) -> None:
        self.api_key = api_key
        self.api_base = api_base.rstrip("/") if api_base else None

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[stripe.StripeClient]:
        http = stripe.HTTPXClient()
        kwargs: dict[str, Any] = {"http_client": http, "max_network_retries": MAX_NETWORK_RETRIES}
        if self.api_base:
            kwargs["base_addresses"] = {"api": self.api_base}
        try:
            yield stripe.StripeClient(self.api_key, **kwargs)
        except stripe.StripeError as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        finally:
            await http.close_async()

    async def create_intent(
        self,
        *,
        amount: int,
        currency: str,
        reference: str,
        description: str,
        email: str,
        idempotency_key: str,
        payment_method: str | None = None,
    ) -> Intent:
        # Payment methods: the account's automatic ones (the default in the API version this
        # SDK pins). Description and email ride in metadata (localstripe accepts no more).
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "metadata": {"reference": reference, "description": description, "email": email},
        }
        if payment_method:
            # Tests only: localstripe cannot confirm with a payment method given at confirm
            # time. In production the Payment Element confirms in the browser.
            params["payment_method"] = payment_method
        async with self._client() as client:
            intent = await client.v1.payment_intents.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        return _intent(intent)

    async def retrieve_intent(self, intent_id: str) -> Intent:
        async with self._client() as client:
            return _intent(await client.v1.payment_intents.retrieve_async(intent_id))

    async def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        async with self._client() as client:
            intent = await client.v1.payment_intents.retrieve_async(intent_id)
            if intent.status in ("succeeded", "canceled"):
                # Paid meanwhile (the webhook settles it) or already cancelled: nothing to do.
                return _intent(intent)
            intent = await client.v1.payment_intents.cancel_async(
                intent_id, options={"idempotency_key": idempotency_key}
            )
        return _intent(intent)

    async def refund(self, intent_id: str, amount: int, *, idempotency_key: str) -> str:
        async with self._client() as client:
            refund = await client.v1.refunds.create_async(
                params={"payment_intent": intent_id, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        return str(refund.id)

    def verify_event(self, payload: bytes, signature: str | None, secret: str) -> WebhookEvent:
        """Check the `Stripe-Signature` header over the raw body; SignatureError if it fails."""
        if not signature:
            raise SignatureError("The Stripe-Signature header is missing.")
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise SignatureError(str(exc)) from exc
        obj = event.data.object.to_dict()
        return WebhookEvent(
            id=str(event.id),
            type=str(event.type),
            object_type=str(obj.get("object", "")),
            object_id=str(obj.get("id", "")),
            payment_intent_id=_intent_id_of(obj),
        )


def _intent_id_of(obj: Any) -> str | None:
    if obj.get("object") == "payment_intent":
        return str(obj.get("id"))
    value = obj.get("payment_intent")
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id")
        return str(found) if found else None
    return None


def _intent(intent: Any) -> Intent:
    data = intent.to_dict() if hasattr(intent, "to_dict") else dict(intent)
    metadata = data.get("metadata") or {}
    return Intent(
        id=str(data["id"]),
        status=str(data["status"]),
        amount=int(data["amount"]),
        currency=str(data["currency"]).upper(),
        reference=metadata.get("reference"),
        client_secret=data.get("client_secret"),
    )
