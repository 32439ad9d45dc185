"""What the worker adds to an event's `data` from the ids it names, read once per batch: the
email of each person named (`learner`, `approver`, `decided_by`: `{"id"}` objects) and the
course code of the session or course named. The booking path queues an event in one cheap
statement, so these are looked up when it is sent; they do not change meanwhile (a person's
email might, and then the event carries the current one)."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from booking.db import Database
from booking.models import Course, Person
from booking.models import Session as SessionRow

PEOPLE_KEYS = ("learner", "approver", "decided_by")


def _person_ids(datas: list[dict[str, Any]]) -> set[int]:
    return {
        int(d[key]["id"])
        for d in datas
        for key in PEOPLE_KEYS
        if isinstance(d.get(key), dict) and d[key].get("id") is not None
    }


async def enrich(db: Database, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of `payloads` with emails and course codes filled in (three statements)."""
    payloads = [copy.deepcopy(p) for p in payloads]
    datas = [p["data"] for p in payloads if isinstance(p.get("data"), dict)]
    person_ids = _person_ids(datas)
    session_ids = {int(d["session_id"]) for d in datas if d.get("session_id") is not None}
    course_ids = {int(d["course_id"]) for d in datas if d.get("course_id") is not None}
    async with db.reading() as s:
        emails = {
            int(i): e
            for i, e in (
                await s.execute(select(Person.id, Person.email).where(Person.id.in_(person_ids)))
            ).all()
        }
        by_session = {
            int(i): (int(c), code)
            for i, c, code in (
                await s.execute(
                    select(SessionRow.id, Course.id, Course.code)
                    .join(Course, Course.id == SessionRow.course_id)
                    .where(SessionRow.id.in_(session_ids))
                )
            ).all()
        }
        codes = {
            int(i): code
            for i, code in (
                await s.execute(select(Course.id, Course.code).where(Course.id.in_(course_ids)))
            ).all()
        }
    for d in datas:
        for key in PEOPLE_KEYS:
            named = d.get(key)
            if isinstance(named, dict) and named.get("id") is not None:
                named["email"] = emails.get(int(named["id"]))
        if d.get("session_id") is not None and int(d["session_id"]) in by_session:
            course_id, code = by_session[int(d["session_id"])]
            d.setdefault("course_id", course_id)
            d["course_code"] = code
        elif d.get("course_id") is not None:
            d["course_code"] = codes.get(int(d["course_id"]))
    return payloads
