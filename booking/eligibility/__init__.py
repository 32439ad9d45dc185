"""Who may book a course: audience, prerequisites and certification windows.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.eligibility.service import (
    completions_needed,
    completions_needed_for,
    course_rules,
    eligibility_reasons_for,
    facts_of,
    learner_profile,
    preview,
    session_facts,
    units_above,
)

__all__ = [
    "completions_needed",
    "completions_needed_for",
    "course_rules",
    "eligibility_reasons_for",
    "facts_of",
    "learner_profile",
    "preview",
    "session_facts",
    "units_above",
]
