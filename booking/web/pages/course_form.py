"""The administrators' course form as typed: every field a string (or a list of rows of
strings), so a refused form comes back exactly as sent; turned into what the catalogue and
the records take, or into messages on the fields that cannot be read.

Repeating rows (cancellation tiers, prerequisites, questions) work without JavaScript: the
form is posted back with one more blank row by an "Add another" button."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from billing.domain.money import Money
from booking.catalogue import CourseInput, DiscountInput
from booking.kernel.views import CourseView, MoneyView

APPROVAL_STEPS = (
    ("self", "The learner (accepts the terms)"),
    ("manager", "Their line manager"),
    ("budget_holder", "The cost code’s budget holder"),
    ("admin", "An administrator"),
)
STAFF_TYPES = (
    ("payroll", "Payroll"),
    ("casual", "Casual"),
    ("associate", "Associate"),
    ("external", "External"),
)
QUESTION_KINDS = (("text", "Text"), ("choice", "Choice"), ("yes_no", "Yes or no"))
MAX_TYPED = 60_000  # past any column's limit: the service names the limit
MAX_ROWS = 40
MAX_NOTICE_HOURS = 87_600  # ten years: past any session anyone schedules
TEXT_FIELDS = (
    "code",
    "title",
    "category",
    "owner_email",
    "price",
    "discount_price",
    "discount_units",
    "discount_roles",
    "no_show_fee",
    "audience_units",
    "audience_roles",
    "terms_text",
    "cert_months",
    "cert_window_days",
)
PENCE = re.compile(r"^£?\s*(\d{1,7})(?:\.(\d{1,2}))?$")


@dataclass(slots=True)
class RulesForm:
    """The records package's rules for the course: completion, mandatory, due period, how the
    requirement is chased, accepted courses and the certificate."""

    completion_mode: str = ""
    criteria: str = ""
    mandatory: bool = False
    due_within_days: str = ""
    reminder_days: str = "1, 7, 14, 21"
    escalate_after_days: str = "28"
    accepted_courses: str = ""
    certificate: bool = False


@dataclass(slots=True)
class CourseForm:
    code: str = ""
    title: str = ""
    summary: str = ""
    category: str = ""
    owner_email: str = ""
    price: str = ""
    discount_price: str = ""
    discount_units: str = ""
    discount_roles: str = ""
    discount_staff: list[str] = field(default_factory=list)
    tiers: list[dict[str, str]] = field(default_factory=list)
    no_show_fee: str = ""
    approval: list[str] = field(default_factory=lambda: ["", "", "", ""])
    audience_units: str = ""
    audience_roles: str = ""
    audience_staff: list[str] = field(default_factory=list)
    prerequisites: list[dict[str, str]] = field(default_factory=list)
    allow_multiple_bookings: bool = False
    questions: list[dict[str, str]] = field(default_factory=list)
    terms_text: str = ""
    cert_months: str = ""
    cert_window_days: str = ""
    rules: RulesForm = field(default_factory=RulesForm)

    def padded(self, add: str | None = None) -> CourseForm:
        """The form with a blank row after the filled ones (two at least), and one more for
        the list whose "Add another" was pressed."""
        for name, blank in (
            ("tiers", {"hours": "", "fee": ""}),
            ("prerequisites", {"code": "", "months": ""}),
            ("questions", {"id": "", "label": "", "kind": "text", "required": "", "choices": ""}),
        ):
            rows = [r for r in getattr(self, name) if any(v for k, v in r.items() if k != "kind")]
            want = max(len(rows) + 1, 2) + (1 if add == name else 0)
            rows += [dict(blank) for _ in range(min(want, MAX_ROWS) - len(rows))]
            setattr(self, name, rows)
        return self


def _codes(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"[,\n]", text) if c.strip()]


def _days(text: str, errors: dict[str, str]) -> list[int]:
    """ "1, 7, 14, 21" as day numbers; empty: no reminders."""
    days = [_int(d) for d in re.split(r"[,\s]+", text) if d]
    if any(d is None for d in days):
        errors.setdefault(
            "reminder_days", "Give day numbers separated by commas, such as 1, 7, 14, 21."
        )
        return []
    return sorted({d for d in days if d is not None})


def _rows(raw: dict[str, str], prefix: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    count = min(_int(raw.get(f"{prefix}_rows", "")) or 0, MAX_ROWS)
    return [
        {k: raw.get(f"{prefix}_{k}_{i}", "").strip()[:MAX_TYPED] for k in keys}
        for i in range(count)
    ]


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def read_form(raw: dict[str, str], lists: dict[str, list[str]]) -> CourseForm:
    """The posted form; `lists` holds the checkbox groups (several values for one name)."""

    def typed(name: str) -> str:
        return raw.get(name, "").strip()[:MAX_TYPED]

    return CourseForm(
        **{name: typed(name) for name in TEXT_FIELDS},
        summary=raw.get("summary", "")[:MAX_TYPED],
        discount_staff=[v for v in lists.get("discount_staff", []) if v],
        tiers=_rows(raw, "tier", ("hours", "fee")),
        approval=[typed(f"step_{i}") for i in range(4)],
        audience_staff=[v for v in lists.get("audience_staff", []) if v],
        prerequisites=_rows(raw, "prereq", ("code", "months")),
        allow_multiple_bookings=raw.get("allow_multiple_bookings") == "yes",
        questions=_rows(raw, "question", ("id", "label", "kind", "required", "choices")),
        rules=RulesForm(
            completion_mode=typed("completion_mode"),
            criteria=typed("criteria"),
            mandatory=raw.get("mandatory") == "yes",
            due_within_days=typed("due_within_days"),
            reminder_days=typed("reminder_days"),
            escalate_after_days=typed("escalate_after_days"),
            accepted_courses=typed("accepted_courses"),
            certificate=raw.get("certificate") == "yes",
        ),
    )


def pence(text: str) -> int | None:
    """ "120.00", "£120" or "120.5" as pence; None when it is not an amount."""
    match = PENCE.match(text.replace(",", ""))
    if match is None:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def pounds(money: MoneyView | None) -> str:
    return "" if money is None else f"{money.amount // 100}.{money.amount % 100:02d}"


def form_of(course: CourseView, rules: RulesForm | None = None) -> CourseForm:
    policy: Mapping[str, Any] = course.cancellation_policy or {}
    audience: Mapping[str, Any] = course.audience or {}
    discount: Mapping[str, Any] = course.discount or {}
    discount_audience: Mapping[str, Any] = discount.get("audience") or {}
    terms: Mapping[str, Any] = course.terms or {}
    certification: Mapping[str, Any] = course.certification or {}
    steps = list(course.approval)
    return CourseForm(
        code=course.code,
        title=course.title,
        summary=course.summary,
        category=course.category or "",
        owner_email=course.owner_email or "",
        price=pounds(course.price),
        discount_price=pounds(discount.get("price")),
        discount_units=", ".join(discount_audience.get("org_units") or []),
        discount_roles=", ".join(discount_audience.get("job_roles") or []),
        discount_staff=list(discount_audience.get("staff_types") or []),
        tiers=[
            {"hours": str(t.get("min_notice_hours", "")), "fee": str(t.get("fee_percent", ""))}
            for t in policy.get("tiers") or []
        ],
        no_show_fee=str(policy["no_show_fee_percent"]) if "no_show_fee_percent" in policy else "",
        approval=(steps + ["", "", "", ""])[:4],
        audience_units=", ".join(audience.get("org_units") or []),
        audience_roles=", ".join(audience.get("job_roles") or []),
        audience_staff=list(audience.get("staff_types") or []),
        prerequisites=[
            {"code": p.get("course_code", ""), "months": str(p.get("within_months") or "")}
            for p in course.prerequisites
        ],
        allow_multiple_bookings=course.allow_multiple_bookings,
        questions=[_question_row(q) for q in course.questions],
        terms_text=terms.get("text") or "",
        cert_months=str(certification.get("months") or ""),
        cert_window_days=str(certification.get("window_days") or ""),
        rules=rules or RulesForm(),
    )


def _question_row(q: Mapping[str, Any]) -> dict[str, str]:
    return {
        "id": str(q.get("id", "")),
        "label": str(q.get("label", "")),
        "kind": str(q.get("kind", "text")),
        "required": "yes" if q.get("required") else "",
        "choices": "\n".join(q.get("choices") or []),
    }


@dataclass(slots=True)
class Parsed:
    """What the form gives, or the messages (by field id) for what it cannot."""

    course: CourseInput | None = None
    rules: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _whole(form_value: str, name: str, message: str, errors: dict[str, str]) -> int | None:
    if not form_value:
        return None
    number = _int(form_value)
    if number is None:
        errors.setdefault(name, message)
    return number


def cancellation_policy_of(form: CourseForm, errors: dict[str, str]) -> dict[str, Any] | None:
    tiers = []
    for row in form.tiers:
        if not row["hours"] and not row["fee"]:
            continue
        hours, fee = _int(row["hours"]), _int(row["fee"])
        if hours is None or fee is None or not 0 <= hours <= MAX_NOTICE_HOURS:
            errors.setdefault(
                "cancellation_policy",
                "Give each cancellation tier its notice in whole hours (at most 87,600, ten "
                "years) and its fee as a whole percentage, such as 48 and 50.",
            )
            continue
        tiers.append({"min_notice_hours": hours, "fee_percent": fee})
    no_show = _whole(
        form.no_show_fee,
        "no_show_fee",
        "Enter the no-show fee as a whole percentage, such as 100.",
        errors,
    )
    if not tiers and no_show is None:
        return None
    tiers.sort(key=lambda t: -t["min_notice_hours"])
    return {"tiers": tiers, "no_show_fee_percent": no_show or 0}


def _audience(units: str, roles: str, staff: list[str]) -> dict[str, Any] | None:
    audience = {"org_units": _codes(units), "job_roles": _codes(roles), "staff_types": staff}
    return {k: v for k, v in audience.items() if v} or None


def _money(text: str, name: str, errors: dict[str, str]) -> Money | None:
    if not text:
        return None
    amount = pence(text)
    if amount is None:
        errors[name] = "Enter the price in pounds and pence, such as 120.00."
        return None
    return Money(amount, "GBP")


def _questions(form: CourseForm) -> list[dict[str, Any]]:
    items = []
    for row in form.questions:
        if not (row["id"] or row["label"] or row["choices"]):
            continue
        question: dict[str, Any] = {
            "id": row["id"],
            "label": row["label"],
            "kind": row["kind"] or "text",
            "required": row["required"] == "yes",
        }
        if question["kind"] == "choice":
            question["choices"] = [c.strip() for c in row["choices"].splitlines() if c.strip()]
        items.append(question)
    return items


def _prerequisites(form: CourseForm, errors: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for row in form.prerequisites:
        if not row["code"] and not row["months"]:
            continue
        item: dict[str, Any] = {"course_code": row["code"]}
        months = _whole(
            row["months"], "prerequisites", "Give “within months” as a whole number.", errors
        )
        if months is not None:
            item["within_months"] = months
        items.append(item)
    return items


def parse(form: CourseForm) -> Parsed:
    """The catalogue's input and the records' rules, or the messages for what cannot be read."""
    errors: dict[str, str] = {}
    price = _money(form.price, "price", errors)
    discount_amount = _money(form.discount_price, "discount_price", errors)
    discount = (
        DiscountInput(
            discount_amount.amount,
            _audience(form.discount_units, form.discount_roles, form.discount_staff),
        )
        if discount_amount is not None
        else None
    )
    months = _whole(form.cert_months, "certification", "Give months as a whole number.", errors)
    window = _whole(form.cert_window_days, "certification", "Give days as a whole number.", errors)
    course = CourseInput(
        code=form.code,
        title=form.title,
        summary=form.summary,
        price=price,
        approval=[step for step in form.approval if step],
        cancellation_policy=cancellation_policy_of(form, errors),
        audience=_audience(form.audience_units, form.audience_roles, form.audience_staff),
        prerequisites=_prerequisites(form, errors),
        allow_multiple_bookings=form.allow_multiple_bookings,
        questions=_questions(form),
        terms_text=form.terms_text or None,
        certification_months=months,
        certification_window_days=window,
        category=form.category or None,
        owner_email=form.owner_email or None,
        discount=discount,
    )
    due = _whole(
        form.rules.due_within_days, "due_within_days", "Give days as a whole number.", errors
    )
    escalate = _whole(
        form.rules.escalate_after_days,
        "escalate_after_days",
        "Give days as a whole number, or leave it empty for never.",
        errors,
    )
    rules = {
        "completion_mode": form.rules.completion_mode or None,
        "criteria": _codes(form.rules.criteria),
        "mandatory": form.rules.mandatory,
        "due_within_days": due,
        "reminder_days": _days(form.rules.reminder_days, errors),
        "escalate_after_days": escalate,
        "accepted_courses": _codes(form.rules.accepted_courses),
        "certificate": form.rules.certificate,
    }
    return Parsed(None if errors else course, rules, errors)
