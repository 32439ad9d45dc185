"""Fee policy: what a place costs, what cancelling or not turning up costs, and until when
cancelling is free. Pure functions over plain data; `now` is always a parameter.

A cancellation policy is a list of tiers by notice before the first session date, for example
`≥ 14 days: 0 %, 7–13 days: 50 %, < 7 days: 100 %` = tiers `(336 h, 0 %), (168 h, 50 %),
(0 h, 100 %)`. A tier applies while the notice given is at least its `min_notice_hours`.

Notice in whole days is counted on the wall clock of the session's own time zone: "14 days
before 09:30 on Tuesday" is 09:30 two Tuesdays earlier, even when the clocks change in between
(so the deadline a learner is shown is the one applied). Hours beyond whole days are elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from billing.domain.money import Money


class PolicyError(ValueError):
    """A policy that cannot be applied; the message is a sentence for a person."""


@dataclass(frozen=True, slots=True)
class Tier:
    min_notice_hours: int
    fee_percent: int


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """Tiers (any order on input; kept longest notice first), the no-show fee and the notice
    that makes moving to another date of the same course free (None: moving is never free)."""

    tiers: tuple[Tier, ...] = ()
    no_show_fee_percent: int = 0
    free_transfer_notice_hours: int | None = None

    def __post_init__(self) -> None:
        for tier in self.tiers:
            if tier.min_notice_hours < 0 or not 0 <= tier.fee_percent <= 100:
                raise PolicyError("Each tier needs min_notice_hours ≥ 0 and a fee from 0 to 100%.")
        if not 0 <= self.no_show_fee_percent <= 100:
            raise PolicyError("The no-show fee is from 0 to 100%.")
        if len({t.min_notice_hours for t in self.tiers}) != len(self.tiers):
            raise PolicyError("Two tiers cannot start at the same notice.")
        ordered = tuple(sorted(self.tiers, key=lambda t: t.min_notice_hours, reverse=True))
        object.__setattr__(self, "tiers", ordered)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> FeePolicy:
        """The course's `cancellation_policy`: `{tiers: [{min_notice_hours, fee_percent}],
        no_show_fee_percent, free_transfer_notice_hours?}`; None or `{}` is no fees at all."""
        if not data:
            return cls()
        try:
            tiers = tuple(
                Tier(int(t["min_notice_hours"]), int(t["fee_percent"]))
                for t in data.get("tiers") or ()
            )
            transfer = data.get("free_transfer_notice_hours")
            return cls(
                tiers,
                int(data.get("no_show_fee_percent") or 0),
                int(transfer) if transfer is not None else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"This cancellation policy cannot be read: {exc}") from exc

    @property
    def has_fees(self) -> bool:
        return self.no_show_fee_percent > 0 or any(t.fee_percent > 0 for t in self.tiers)


@dataclass(frozen=True, slots=True)
class Quote:
    """What cancelling now costs. `refund` is what goes back to a card (None: nothing was paid
    by card); `free_until` is the last moment cancelling is free (None: it never is, or it no
    longer is); `tier` is the tier that applied (None: no policy, or nothing to charge)."""

    fee: Money
    refund: Money | None
    tier: Tier | None
    free_until: datetime | None
    reason: str


def price_for(
    price: Money | None,
    *,
    discount_price: Money | None = None,
    discount_audiences: Iterable[str] = (),
    learner_audiences: Iterable[str] = (),
) -> Money | None:
    """The price a learner pays: the discount price when they belong to one of its named
    audiences (never more than the normal price), otherwise the price. None is free."""
    if price is None or price.amount == 0:
        return None
    if discount_price is not None and set(discount_audiences) & set(learner_audiences):
        if discount_price.currency != price.currency:
            raise PolicyError("The discount price must be in the course's currency.")
        return discount_price if discount_price.amount < price.amount else price
    return price


def deadline(first_start: datetime, timezone: str, notice_hours: int) -> datetime:
    """The last moment at which `notice_hours` of notice is still given (UTC)."""
    if first_start.tzinfo is None:
        raise ValueError("first_start must be aware")
    days, hours = divmod(notice_hours, 24)
    zone = ZoneInfo(timezone)
    wall = first_start.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    # A wall-clock time the clocks skip (spring forward) or repeat (autumn) resolves as
    # zoneinfo does with fold=0: the earlier offset.
    local = wall.replace(tzinfo=zone)
    return local.astimezone(UTC) - timedelta(hours=hours)


def applicable_tier(
    policy: FeePolicy, *, first_start: datetime, timezone: str, now: datetime
) -> Tier | None:
    """The tier whose notice is still met at `now`; when even the shortest is not met (a
    policy without a 0-hour tier), the shortest applies. None: the policy has no tiers."""
    for tier in policy.tiers:
        if now <= deadline(first_start, timezone, tier.min_notice_hours):
            return tier
    return policy.tiers[-1] if policy.tiers else None


def free_until(
    policy: FeePolicy, *, first_start: datetime, timezone: str, now: datetime
) -> datetime | None:
    """Until when cancelling costs nothing: the deadline of the shortest-notice free tier
    that follows only free tiers. None when cancelling is no longer (or never) free."""
    if not policy.tiers:
        return first_start if now < first_start else None
    last: datetime | None = None
    for tier in policy.tiers:
        if tier.fee_percent > 0:
            break
        last = deadline(first_start, timezone, tier.min_notice_hours)
    if last is None or now > last:
        return None
    return last


def quote_cancellation(
    policy: FeePolicy,
    *,
    price: Money | None,
    paid: Money | None,
    first_start: datetime,
    timezone: str,
    now: datetime,
    organiser_cancelled: bool = False,
    holds_place: bool = True,
) -> Quote:
    """The fee for cancelling at `now` and the refund of a card payment.

    No fee when the organiser cancels, when nothing is charged for the place, or when the
    booking holds no paid-for place yet (waiting list, pending approval or payment)."""
    currency = (paid or price or Money(0)).currency
    zero = Money(0, currency)
    until = free_until(policy, first_start=first_start, timezone=timezone, now=now)
    if organiser_cancelled:
        return Quote(zero, paid, None, until, "The organiser cancelled: no fee.")
    basis = paid or price
    if basis is None or basis.amount == 0 or not holds_place:
        return Quote(zero, paid, None, until, "Nothing is charged for this place.")
    tier = applicable_tier(policy, first_start=first_start, timezone=timezone, now=now)
    fee = basis.percent(tier.fee_percent) if tier else zero
    refund = Money(paid.amount - fee.amount, currency) if paid is not None else None
    reason = tier_label(policy, tier) if tier else "This course has no cancellation fees."
    return Quote(fee, refund, tier, until, reason)


def no_show_fee(policy: FeePolicy, price: Money | None) -> Money | None:
    """The fee for not turning up; None when there is none."""
    if price is None or policy.no_show_fee_percent == 0:
        return None
    fee = price.percent(policy.no_show_fee_percent)
    return fee if fee.amount > 0 else None


def cancellation_terms(
    policy: FeePolicy,
    price: Money | None,
    *,
    first_start: datetime,
    timezone: str,
    now: datetime | None = None,
) -> str:
    """The policy as one sentence with its dates, in the session's own time zone: "Free to
    cancel until Mon 7 Dec 09:30, then £75.00 (50%) until Wed 9 Dec 09:30, then £150.00.
    Not attending without cancelling costs £150.00." The same tiers, deadlines and rounding
    as `quote_cancellation`. With `now`, periods already over are left out."""
    if price is None or price.amount == 0 or not policy.has_fees:
        return "Free to cancel."
    # Each tier applies until its deadline; the shortest-notice tier applies to the end. Next
    # tiers with the same fee are one period.
    periods: list[tuple[int, datetime | None]] = []
    for i, tier in enumerate(policy.tiers):
        last = i == len(policy.tiers) - 1
        until = None if last else deadline(first_start, timezone, tier.min_notice_hours)
        if now is not None and until is not None and until < now:
            continue
        if periods and periods[-1][0] == tier.fee_percent:
            periods[-1] = (tier.fee_percent, until)
        else:
            periods.append((tier.fee_percent, until))
    if not periods:  # no tiers: cancelling is free, whatever not attending costs
        periods = [(0, None)]
    parts: list[str] = []
    for i, (percent, until) in enumerate(periods):
        cost = _cost(price, percent)
        when = f" until {_wall(until, timezone)}" if until is not None else ""
        if i == 0:
            parts.append(
                f"Free to cancel{when}" if percent == 0 else f"Cancelling costs {cost}{when}"
            )
        else:
            parts.append(f"then {'free' if percent == 0 else cost}{when}")
    sentence = ", ".join(parts) + "."
    no_show = no_show_fee(policy, price)
    if no_show is not None:
        percent = policy.no_show_fee_percent
        sentence += f" Not attending without cancelling costs {_cost(price, percent)}."
    return sentence


def _cost(price: Money, percent: int) -> str:
    """ "£75.00 (50%)"; the whole price without its percentage."""
    amount = price.percent(percent).display()
    return amount if percent == 100 else f"{amount} ({percent}%)"


def _wall(at: datetime, timezone: str) -> str:
    """ "Mon 7 Dec 09:30", on the session's wall clock."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def transfer_is_free(
    policy: FeePolicy, *, first_start: datetime, timezone: str, now: datetime
) -> bool:
    """Moving to another date of the same course is free with enough notice (counted like the
    cancellation tiers); without that notice it is charged as a cancellation."""
    if policy.free_transfer_notice_hours is None:
        return False
    return now <= deadline(first_start, timezone, policy.free_transfer_notice_hours)


def substitution_is_free(*, colleague_eligible: bool) -> bool:
    """Handing the place to a colleague is always free, if the colleague may take it."""
    return colleague_eligible


def waive(fee: Money, *, reason: str | None) -> Money:
    """An administrator's waiver: the amount credited back. A waiver needs a reason."""
    if not (reason or "").strip():
        raise PolicyError("A waiver needs a reason.")
    if fee.amount <= 0:
        raise PolicyError("There is no fee to waive.")
    return Money(-fee.amount, fee.currency)


def card_refund(paid: Money, fee: Money, already_refunded: int = 0) -> Money:
    """What a card gets back: the payment minus the fee and minus what was refunded before,
    never negative."""
    return Money(max(0, paid.amount - fee.amount - already_refunded), paid.currency)


def tier_label(policy: FeePolicy, tier: Tier) -> str:
    """For example "At least 7 days' notice: 50%"; the shortest tier "Less than 7 days' …"."""
    longer = [
        t.min_notice_hours for t in policy.tiers if t.min_notice_hours > tier.min_notice_hours
    ]
    if tier.min_notice_hours == 0:
        if not longer:
            return f"Any notice: {tier.fee_percent}%"
        return f"Less than {_notice_label(min(longer))} notice: {tier.fee_percent}%"
    return f"At least {_notice_label(tier.min_notice_hours)} notice: {tier.fee_percent}%"


def _notice_label(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day's" if days == 1 else f"{days} days'"
    return f"{hours} hour's" if hours == 1 else f"{hours} hours'"
