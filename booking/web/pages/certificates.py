"""Certificates on the pages: the PDF for the person, their managers and administrators, and
the public verification page a printed certificate's link opens (valid: name, course and dates;
anything else: not found)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.response import Template

from booking import records
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.ratelimit import CERTIFICATE_CHECK
from booking.web.api.evidence import pdf_response
from booking.web.pages.render import page
from booking.web.pages.signin import client_ip


@get("/certificates/{certificate_id:int}/pdf", include_in_schema=False)
async def certificate_download(
    request: Request[Any, Any, Any], db: Database, actor: Actor, certificate_id: int
) -> Response[bytes]:
    base_url = str(request.app.state.settings.base_url)
    return pdf_response(await records.certificate_pdf(db, actor, certificate_id, base_url=base_url))


@get("/certificates/{code:str}", include_in_schema=False)
async def verify_certificate(request: Request[Any, Any, Any], db: Database, code: str) -> Template:
    """Anyone may check a code; codes not found are counted per address, lightly limited."""
    limiter = request.app.state.limiter
    who = f"ip:{client_ip(request)}"
    wait = await limiter.blocked(CERTIFICATE_CHECK, who)
    if wait:
        return page(
            request,
            "booking/certificate_check.html",
            actor=None,
            check=None,
            limited=True,
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    try:
        check = await records.verify_certificate(db, code)
    except NotFoundError:
        await limiter.count(CERTIFICATE_CHECK, who)
        return page(
            request, "booking/certificate_check.html", actor=None, check=None, status_code=404
        )
    return page(
        request,
        "booking/certificate_check.html",
        actor=None,
        check=check,
        completed=records.certificate_day(check.completed_at),
        expires=records.certificate_day(check.expires_at) if check.expires_at else None,
    )


HANDLERS = [certificate_download]
PUBLIC_HANDLERS = [verify_certificate]
