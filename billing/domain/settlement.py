"""Settling a paid card payment when its place ends with a fee (a cancellation, a no-show).

One rule for both: the whole payment is booked back, the fee is charged, and the card gets the
difference, never less than nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.domain.fees import card_refund
from billing.domain.money import Money


@dataclass(frozen=True, slots=True)
class CardSettlement:
    # The payment booked back in full (a negative amount): the ledger's "refund" row.
    returned: Money
    # The fee kept; None when there is none.
    fee: Money | None
    # What goes back to the card; None when the fee takes it all.
    refund: Money | None


def settle_card_payment(paid: Money, fee: Money) -> CardSettlement:
    """The ledger rows and the card refund for a paid place that ends with `fee`."""
    back = card_refund(paid, fee)
    return CardSettlement(
        returned=Money(-paid.amount, paid.currency),
        fee=fee if fee.amount > 0 else None,
        refund=back if back.amount > 0 else None,
    )
