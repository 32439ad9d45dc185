"""The settlement rule for a paid card payment, without a database."""

from __future__ import annotations

from billing.domain.money import Money
from billing.domain.settlement import CardSettlement, settle_card_payment

PAID = Money(6000)


def test_the_card_gets_the_payment_less_the_fee() -> None:
    assert settle_card_payment(PAID, Money(1500)) == CardSettlement(
        returned=Money(-6000), fee=Money(1500), refund=Money(4500)
    )


def test_no_fee_refunds_the_whole_payment_and_charges_nothing() -> None:
    assert settle_card_payment(PAID, Money(0)) == CardSettlement(
        returned=Money(-6000), fee=None, refund=Money(6000)
    )


def test_a_fee_that_takes_it_all_refunds_nothing() -> None:
    assert settle_card_payment(PAID, Money(6000)).refund is None
    assert settle_card_payment(PAID, Money(7000)) == CardSettlement(
        returned=Money(-6000), fee=Money(7000), refund=None
    )


def test_the_payment_s_currency_is_kept() -> None:
    paid = Money(5000, "EUR")
    assert settle_card_payment(paid, Money(1000, "EUR")).refund == Money(4000, "EUR")
