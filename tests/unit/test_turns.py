"""Turns at a session's seats (bookings/turns.py): at most so many at once per session, the
rest in arrival order; other sessions never wait; nothing kept once nobody waits."""

from __future__ import annotations

import asyncio

from booking.bookings.turns import Turns


async def test_turns_are_taken_in_arrival_order_and_per_session() -> None:
    turns = Turns(at_once=2)
    inside: list[int] = []
    most = 0
    order: list[int] = []
    gate = asyncio.Event()

    async def booking(n: int, session_id: int) -> None:
        nonlocal most
        async with turns.turn(session_id):
            order.append(n)
            inside.append(n)
            most = max(most, sum(1 for i in inside if i != 99))
            await gate.wait()
            inside.remove(n)

    tasks = [asyncio.create_task(booking(n, 7)) for n in range(6)]
    other = asyncio.create_task(booking(99, 8))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == [0, 1, 99]  # two of session 7 at once; session 8 did not wait
    assert turns.waiting(7) == 6
    gate.set()
    await asyncio.gather(*tasks, other)
    assert [n for n in order if n != 99] == [0, 1, 2, 3, 4, 5]
    assert most == 2  # never more than two of session 7 at once
    assert turns.waiting(7) == 0 and turns._queues == {}
