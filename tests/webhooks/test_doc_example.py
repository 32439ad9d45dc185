"""The verification example in docs/api.md ("Webhooks") accepts a real delivery and refuses a
tampered or stale one: the documentation's code runs as written."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from booking import PROJECT_ROOT
from tests import support
from tests.webhooks.helpers import add_endpoint, book, deliver
from tests.webhooks.receiver import running_receiver


def documented_verify() -> Any:
    text = (PROJECT_ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("## Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "docs/api.md has no Python example under Webhooks"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


async def test_the_documented_verification_accepts_our_signature(world: support.World) -> None:
    verify = documented_verify()
    world.clock.set(datetime.now(UTC))
    with running_receiver() as receiver:
        made = await add_endpoint(world, receiver.url, ["booking.created"])
        await book(world, await support.make_session(world))
        await deliver(world)
    (request,) = receiver.received
    assert verify(made.secret, request.headers, request.body)
    assert not verify(made.secret, request.headers, request.body + b" ")
    stale = {
        **request.headers,
        "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 3600),
    }
    assert not verify(made.secret, stale, request.body)
