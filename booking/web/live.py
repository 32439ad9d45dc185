"""Live updates: server-sent events that tell open pages a session changed.

Services announce the channels a transaction touched; the database publishes them after commit
(`Database.on_commit`) through Litestar's channels, in memory for one process or through Redis
(`BOOKING_REDIS_URL`) so every app process hears every change. Pages listen with htmx's SSE
extension and fetch the changed row or roster themselves: the event carries no data, so it
can't leak anything and a missed one costs only freshness.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from booking.config import Settings
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError
from booking.kernel.outbox import session_channel
from booking.web.deps import provide_page_actor

MAX_SESSIONS = 200


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    if settings.redis_url:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        class ClosingRedisBackend(RedisChannelsPubSubBackend):
            """Closes its client at shutdown too: Litestar's backend closes only the pub/sub
            connection, and the connection that published would be left open."""

            async def on_shutdown(self) -> None:
                await super().on_shutdown()
                # `aclose` is redis-py 5.0.1's name for `close`.
                await getattr(self._redis, "aclose", self._redis.close)()

        backend: Any = ClosingRedisBackend(redis=Redis.from_url(settings.redis_url))
    else:
        backend = MemoryChannelsBackend()
    return ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)


def connect(db: Database, plugin: ChannelsPlugin) -> None:
    """Publish what each committed transaction announced."""

    def publish(channels: list[str]) -> None:
        for channel in channels:
            plugin.publish(channel, channels=[channel])

    db.on_commit = publish


@get(
    "/live",
    include_in_schema=False,
    dependencies={"actor": Provide(provide_page_actor)},
)
async def live(
    request: Request[Any, Any, Any],
    actor: Actor,
    sessions: str = Parameter(query="sessions", default=""),
) -> ServerSentEvent:
    try:
        ids = sorted({int(x) for x in sessions.split(",") if x.strip()})
    except ValueError:
        raise InvalidError(
            "sessions is a comma-separated list of session ids.", "sessions"
        ) from None
    if not ids or len(ids) > MAX_SESSIONS:
        raise InvalidError(f"Follow between 1 and {MAX_SESSIONS} sessions.", "sessions")
    plugin = request.app.plugins.get(ChannelsPlugin)
    names = [session_channel(i) for i in ids]

    async def stream() -> AsyncGenerator[ServerSentEventMessage, None]:
        async with plugin.start_subscription(names) as subscriber:
            # A first message so clients (and proxies) see the stream is open.
            yield ServerSentEventMessage(event="ready", data="ok", retry=5000)
            async for message in subscriber.iter_events():
                channel = message.decode() if isinstance(message, bytes) else str(message)
                yield ServerSentEventMessage(event=channel, data="changed")

    return ServerSentEvent(
        stream(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
