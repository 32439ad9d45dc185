"""Billing's refusals (booking turns them into its own service errors) and the gateway's."""

from __future__ import annotations


class BillingError(Exception):
    status = 400

    def __init__(self, message: str, *, code: str = "billing", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class NotFound(BillingError):
    status = 404


class Conflict(BillingError):
    status = 409


class Invalid(BillingError):
    status = 422


class GatewayError(Exception):
    """Stripe could not be reached or refused the call."""


class SignatureError(Exception):
    """A webhook whose signature does not verify."""
