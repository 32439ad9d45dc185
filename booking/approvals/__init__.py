"""Approvals: the manager and budget-holder steps before a booking holds its seat.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.approvals.decide import DECISIONS, Decision, decide
from booking.approvals.links import LINK_LIFETIME, check_link, decision_link
from booking.approvals.queue import get_request, list_waiting
from booking.approvals.requests import budget_holder_for, request_step
from booking.approvals.sweeps import lapse_requests, remind_approvers

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
