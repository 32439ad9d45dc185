"""Who may book a course: audience, prerequisites and certification windows.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own: `course_rules` (a course's rules, a session's facts), `learners` (the learner
as the rules see them), `preview` (the course page's "before you try")."""

from booking.eligibility.course_rules import (
    completions_needed,
    completions_needed_for,
    course_rules,
    eligibility_reasons_for,
    facts_of,
    rules_without_reads,
    session_facts,
)
from booking.eligibility.learners import learner_profile, units_above
from booking.eligibility.preview import preview

__all__ = [
    "completions_needed",
    "completions_needed_for",
    "course_rules",
    "eligibility_reasons_for",
    "facts_of",
    "learner_profile",
    "preview",
    "rules_without_reads",
    "session_facts",
    "units_above",
]
