"""Account requests: the public form, the emailed confirmation link, the administrators' queue,
approving (the person is made and told how to sign in) and declining (the reason is emailed).
Forms are posted as a browser without JavaScript would; emails are read from the outbox."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

from sqlalchemy import func, select

from booking import notifications, people, signing
from booking.models import AccountRequest, AuditEvent, OrgUnit, Outbox, Person
from tests import support
from tests.web.conftest import Browser, BrowserFactory

FORM = "/account-request"
QUEUE = "/admin/account-requests"


def _form(**changes: str) -> dict[str, str]:
    fields = {
        "name": "Sam Supply",
        "email": "Sam.Supply@school.example",
        "organisation": "Hillside Primary School",
        "org_unit_id": "",
        "org_unit_text": "",
        "job_role": "Teaching assistant",
        "staff_type": "external",
        "manager_email": "manager@example.org",
        "reason": "Safeguarding training for school staff",
    }
    return {**fields, **changes}


async def _emails(world: support.World, topic: str) -> list[Outbox]:
    async with world.db.reading() as s:
        return list(
            await s.scalars(select(Outbox).where(Outbox.topic == topic).order_by(Outbox.id))
        )


async def _requests(world: support.World) -> list[AccountRequest]:
    async with world.db.reading() as s:
        return list(await s.scalars(select(AccountRequest).order_by(AccountRequest.id)))


async def _unit_id(world: support.World, code: str) -> int:
    async with world.db.reading() as s:
        unit_id = await s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
    assert unit_id is not None
    return unit_id


def _path(link: str) -> str:
    return link.split("testserver", 1)[-1] if "://" in link else link


async def _send(browser: Browser, **changes: str) -> Any:
    await browser.get(FORM)
    return await browser.post(FORM, _form(**changes))


async def _confirm(browser: Browser, link: str) -> Any:
    path = re.sub(r"^https?://[^/]+", "", link)
    shown = await browser.get(path)
    assert shown.status_code == 200 and "Confirm my email address" in shown.text
    token = unescape(re.search(r'name="token" value="([^"]*)"', shown.text)[1])  # type: ignore[index]
    return await browser.post("/account-request/confirm", {"token": token})


async def _sent_and_confirmed(browser: Browser, **changes: str) -> AccountRequest:
    sent = await _send(browser, **changes)
    assert sent.status_code == 200, sent.text
    [mail] = (await _emails(browser.world, "account.request_confirm"))[-1:]
    confirmed = await _confirm(browser, mail.payload["link"])
    assert confirmed.status_code == 200 and "your address is confirmed" in confirmed.text
    return (await _requests(browser.world))[-1]


async def test_the_sign_in_page_links_to_the_account_request_form(browser: Browser) -> None:
    login = await browser.get("/login")
    assert 'href="/account-request"' in login.text
    form = await browser.get(FORM)
    assert form.status_code == 200 and "Hillside" not in form.text
    assert "Adult Services" in form.text  # the units to choose from


async def test_a_request_confirmed_and_approved_makes_the_person_who_sets_a_password(
    open_browser: BrowserFactory,
) -> None:
    async with open_browser(demo=True) as browser:
        world = browser.world
        adult = await _unit_id(world, "ADULT")
        sent = await _send(browser, org_unit_id=str(adult))
        assert sent.status_code == 200 and "We have sent an email" in sent.text
        [request] = await _requests(world)
        assert (request.state, request.email) == ("unconfirmed", "sam.supply@school.example")
        await browser.sign_in("admin@example.org")
        waiting = await browser.get(QUEUE)
        assert "Sam Supply" not in waiting.text  # not in the queue until confirmed
        assert "Sam Supply" in (await browser.get(f"{QUEUE}?state=unconfirmed")).text

        [mail] = await _emails(world, "account.request_confirm")
        assert mail.recipient_id is None and mail.payload["to_email"] == request.email
        confirmed = await _confirm(browser, mail.payload["link"])
        assert "your address is confirmed" in confirmed.text
        again = await _confirm(browser, mail.payload["link"])
        assert "your address is confirmed" in again.text  # a second click changes nothing

        queue = await browser.get(QUEUE)
        assert queue.status_code == 200
        for shown in (
            "Sam Supply",
            "Hillside Primary School",
            "Adult Services",
            "Teaching assistant",
        ):
            assert shown in queue.text
        hub = await browser.get("/admin")
        assert "1 waiting" in hub.text

        approved = await browser.post(f"{QUEUE}/{request.id}/approve")
        assert approved.status_code == 303, approved.text
        assert "has an account" in (await browser.get(QUEUE)).text

    async with world.db.reading() as s:
        person = await s.scalar(select(Person).where(Person.email == request.email))
        manager = await s.scalar(select(Person).where(Person.email == "manager@example.org"))
    assert person is not None and manager is not None
    assert (person.name, person.job_role, person.staff_type) == (
        "Sam Supply",
        "Teaching assistant",
        "external",
    )
    assert person.org_unit_id == adult and person.manager_id == manager.id
    assert person.roles == "learner"
    [welcome] = await _emails(world, "account.approved")
    assert welcome.recipient_id == person.id and welcome.payload["sso"] is False
    async with open_browser(demo=False) as fresh:
        link = re.sub(r"^https?://[^/]+", "", welcome.payload["link"])
        assert (await fresh.get(link)).status_code == 200
        token = link.split("token=", 1)[1]
        fields = {"token": token, "password": "Welcome-2027", "confirm": "Welcome-2027"}
        changed = await fresh.post("/password/reset", fields)
        assert changed.status_code == 303, changed.text
        signed_in = await fresh.post(
            "/login", {"email": person.email, "password": "Welcome-2027", "next": "/courses"}
        )
        assert signed_in.status_code == 303, signed_in.text
    async with world.db.reading() as s:
        actions = set(await s.scalars(select(AuditEvent.action)))
    assert {
        "account_request.submitted",
        "account_request.confirmed",
        "account_request.approved",
    } <= actions


async def test_declining_emails_the_reason_and_a_missing_reason_is_asked_for(
    browser: Browser,
) -> None:
    request = await _sent_and_confirmed(browser)
    await browser.sign_in("admin@example.org")
    field = f"reason-{request.id}"
    missing = await browser.post(f"{QUEUE}/{request.id}/decline", {field: "  "})
    assert missing.status_code == 422
    assert "Give a reason for declining the request" in missing.text
    assert f'aria-describedby="{field}-error"' in missing.text
    declined = await browser.post(
        f"{QUEUE}/{request.id}/decline", {field: "Please ask your school to book for you."}
    )
    assert declined.status_code == 303
    [mail] = await _emails(browser.world, "account.request_declined")
    assert mail.payload["reason"] == "Please ask your school to book for you."
    assert mail.payload["to_email"] == "sam.supply@school.example"
    page = await browser.get(f"{QUEUE}?state=declined")
    assert "Please ask your school to book for you." in page.text
    assert (await _requests(browser.world))[0].state == "declined"


async def test_bad_input_comes_back_in_place_and_nothing_is_written(browser: Browser) -> None:
    await browser.get(FORM)
    refused = await browser.post(
        FORM,
        _form(name="", email="not-an-email", staff_type="boss", reason="x" * 5000, job_role="A"),
    )
    assert refused.status_code == 422
    assert "Enter your full name." in refused.text
    assert "Enter an email address like name@example.org." in refused.text
    assert "Choose the kind of staff you are." in refused.text
    assert "Keep this to 2,000 characters or fewer." in refused.text
    assert 'value="not-an-email"' in refused.text and "Hillside Primary School" in refused.text
    assert 'aria-describedby="email-hint email-error"' in refused.text
    huge = await browser.post(FORM, _form(org_unit_id="9" * 40, name="\x00" * 50_000))
    assert huge.status_code == 422
    nul = await browser.post(FORM, _form(reason="Line one\nline two\x00"))
    assert nul.status_code == 422 and "control character" in nul.text
    ghost = await browser.post(FORM, _form(org_unit_id="999999"))
    assert ghost.status_code == 422 and "Choose your unit from the list" in ghost.text
    assert await _requests(browser.world) == []
    assert await _emails(browser.world, "account.request_confirm") == []


async def test_the_answer_is_the_same_for_an_address_with_an_account(browser: Browser) -> None:
    new = await _send(browser)
    known = await _send(browser, email="LEE@example.org")
    assert known.status_code == new.status_code == 200

    def body(r: Any) -> str:
        return re.sub(r'value="[^"]*"', "", r.text)

    assert body(known) == body(new)
    assert [r.email for r in await _requests(browser.world)] == ["sam.supply@school.example"]
    [told] = await _emails(browser.world, "account.exists")
    assert told.payload["link"].endswith("/login")


async def test_sending_twice_keeps_one_request_and_refreshes_it(browser: Browser) -> None:
    await _send(browser)
    await _send(browser, job_role="Cover supervisor")
    [request] = await _requests(browser.world)
    assert request.job_role == "Cover supervisor"
    assert len(await _emails(browser.world, "account.request_confirm")) == 2
    [mail] = (await _emails(browser.world, "account.request_confirm"))[:1]
    await _confirm(browser, mail.payload["link"])  # the first link still works
    await _send(browser, job_role="Something else")
    [waiting] = await _requests(browser.world)
    assert (waiting.state, waiting.job_role) == ("waiting", "Cover supervisor")


async def test_a_forged_or_expired_link_is_refused(browser: Browser) -> None:
    await _send(browser)
    [mail] = await _emails(browser.world, "account.request_confirm")
    token = mail.payload["link"].split("token=", 1)[1]
    await browser.get(FORM)
    forged = await browser.post("/account-request/confirm", {"token": token[:-3] + "abc"})
    assert forged.status_code == 404 and "This link is not valid." in forged.text
    [request] = await _requests(browser.world)
    stale = signing.sign(
        support.SECRET,
        "account-request",
        {"r": request.id, "e": request.email},
        support.T0 - timedelta(minutes=1),
    )
    expired = await browser.post("/account-request/confirm", {"token": stale})
    assert expired.status_code == 404 and "This link has expired." in expired.text
    assert (await _requests(browser.world))[0].state == "unconfirmed"


async def test_only_administrators_see_and_decide_the_queue(browser: Browser) -> None:
    request = await _sent_and_confirmed(browser)
    await browser.sign_in("lee@example.org")
    assert (await browser.get(QUEUE)).status_code == 403
    assert (await browser.post(f"{QUEUE}/{request.id}/approve")).status_code == 403
    refused = await browser.post(f"{QUEUE}/{request.id}/decline", {f"reason-{request.id}": "no"})
    assert refused.status_code == 403
    assert (await _requests(browser.world))[0].state == "waiting"


async def test_approving_twice_is_refused_with_a_clear_message(browser: Browser) -> None:
    request = await _sent_and_confirmed(browser)
    await browser.sign_in("admin@example.org")
    assert (await browser.post(f"{QUEUE}/{request.id}/approve")).status_code == 303
    twice = await browser.post(f"{QUEUE}/{request.id}/approve")
    assert twice.status_code == 409
    assert "This request was already approved by Ada Admin: nothing was changed." in twice.text
    async with browser.world.db.reading() as s:
        count = await s.scalar(
            select(func.count()).select_from(Person).where(Person.email == request.email)
        )
    assert count == 1
    declined = await browser.post(f"{QUEUE}/{request.id}/decline", {f"reason-{request.id}": "x"})
    assert declined.status_code == 409


async def test_every_account_request_email_renders_for_its_addressee(browser: Browser) -> None:
    world = browser.world
    request = await _sent_and_confirmed(browser)
    other = await _sent_and_confirmed(browser, email="other@school.example")
    await _send(browser, email="lee@example.org")
    await browser.sign_in("admin@example.org")
    await browser.post(f"{QUEUE}/{request.id}/approve")
    await browser.post(f"{QUEUE}/{other.id}/decline", {f"reason-{other.id}": "Ask your school."})
    settings = support.settings_for("sqlite://")
    expected = {
        "account.request_confirm": ("Confirm your email address", "sam.supply@school.example"),
        "account.exists": ("You already have a training account", "lee@example.org"),
        "account.approved": ("Your training account is ready", "sam.supply@school.example"),
        "account.request_declined": ("was not approved", "other@school.example"),
    }
    for topic, (subject, to) in expected.items():
        mail = (await _emails(world, topic))[0]
        shown = await notifications.show_message(
            world.db, world.clock, settings, world.admin, mail.id
        )
        assert subject in shown.subject and shown.to_email == to
        if mail.payload.get("link") and topic != "account.exists":
            assert mail.payload["link"] not in shown.text  # secret links are withheld
    declined = (await _emails(world, "account.request_declined"))[0]
    shown = await notifications.show_message(
        world.db, world.clock, settings, world.admin, declined.id
    )
    assert "Ask your school." in shown.text


async def test_the_form_is_rate_limited_per_address(browser: Browser) -> None:
    answers = [(await _send(browser, email=f"n{i}@school.example")).status_code for i in range(6)]
    assert answers == [200] * 5 + [429]
    assert len(await _requests(browser.world)) == 5


async def test_unconfirmed_requests_older_than_a_week_leave_the_queue(browser: Browser) -> None:
    world = browser.world
    settings = support.settings_for("sqlite://")
    old = people.AccountRequestInput(**{**_form(), "email": "old@school.example"})
    world.clock.set(support.T0 - timedelta(days=8))
    try:
        await people.request_account(world.db, world.clock, settings, old, ip=None)
    finally:
        world.clock.set(support.T0)
    await _send(browser)
    await browser.sign_in("admin@example.org")
    page = await browser.get(f"{QUEUE}?state=unconfirmed")
    assert "sam.supply@school.example" in page.text and "old@school.example" not in page.text


async def test_approval_is_refused_for_an_address_that_has_an_account_since(
    browser: Browser,
) -> None:
    world = browser.world
    request = await _sent_and_confirmed(browser)
    await people.upsert_people(
        world.db, world.clock, world.admin, [people.PersonInput(request.email, "Sam Supply")]
    )
    await browser.sign_in("admin@example.org")
    refused = await browser.post(f"{QUEUE}/{request.id}/approve")
    assert refused.status_code == 409
    assert "already has an active account (Sam Supply): nothing was changed" in refused.text
    assert (await _requests(world))[0].state == "waiting"


async def test_a_manager_without_an_account_is_left_out_and_the_flash_says_so(
    browser: Browser,
) -> None:
    request = await _sent_and_confirmed(browser, manager_email="boss@school.example")
    await browser.sign_in("admin@example.org")
    approved = await browser.post(f"{QUEUE}/{request.id}/approve")
    assert approved.status_code == 303
    page = await browser.get(QUEUE)
    assert "Their manager (boss@school.example) has no account here" in page.text
    async with browser.world.db.reading() as s:
        person = await s.scalar(select(Person).where(Person.email == request.email))
    assert person is not None and person.manager_id is None
