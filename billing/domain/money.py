"""Money as integer minor units with a currency, and the one place where percentages round."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DEFAULT_CURRENCY = "GBP"
_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("money amounts are integer minor units")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"currency must be a three-letter ISO code, not {self.currency!r}")

    def percent(self, percent: int | Decimal) -> Money:
        """`percent` % of this amount, rounded half up to the minor unit."""
        value = (Decimal(self.amount) * Decimal(percent) / Decimal(100)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        return Money(int(value), self.currency)

    def display(self) -> str:
        if self.amount == 0:
            return "Free"
        symbol = _SYMBOLS.get(self.currency)
        major = f"{self.amount // 100:,}.{self.amount % 100:02d}"
        return f"{symbol}{major}" if symbol else f"{major} {self.currency}"
