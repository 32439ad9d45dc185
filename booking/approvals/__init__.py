"""Approvals: the manager and budget-holder steps before a booking holds its seat.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.approvals.service import (
    DECISIONS,
    LINK_LIFETIME,
    Decision,
    budget_holder_for,
    check_link,
    decide,
    decision_link,
    get_request,
    lapse_requests,
    list_waiting,
    remind_approvers,
    request_step,
)

__all__ = [
    "DECISIONS",
    "Decision",
    "LINK_LIFETIME",
    "budget_holder_for",
    "check_link",
    "decide",
    "decision_link",
    "get_request",
    "lapse_requests",
    "list_waiting",
    "remind_approvers",
    "request_step",
]
