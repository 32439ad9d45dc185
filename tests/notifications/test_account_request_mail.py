"""Account request emails go over SMTP to the address asked with, before that person has an
account (the payload carries it), and the new account's welcome to the person made."""

from __future__ import annotations

from booking import people
from booking.config import Settings
from booking.mailer import SmtpMailer
from tests import support
from tests.notifications.conftest import Inbox
from tests.notifications.mail import deliver


async def test_the_confirmation_goes_to_the_address_asked_with_and_the_welcome_to_the_person(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    request_id = await support.waiting_account_request(world, "rae@partner.example")
    await deliver(world.db, world.clock, settings, mailer)
    [confirm] = inbox.all()
    assert confirm.rcpt_tos == ["rae@partner.example"]
    message = confirm.parsed()
    assert str(message["Subject"]) == "Confirm your email address for your account request"
    body = message.get_body(("plain",))
    assert body is not None and "/account-request/confirm?token=" in body.get_content()
    inbox.clear()

    await people.approve_account_request(
        world.db, world.clock, settings, world.admin, request_id, sso=True
    )
    await deliver(world.db, world.clock, settings, mailer)
    [welcome] = inbox.all()
    assert welcome.rcpt_tos == ["rae@partner.example"]
    text = welcome.parsed().get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "Sign in with your organisation account" in content
    assert "/password/reset" not in content  # with single sign-on, no password to choose
