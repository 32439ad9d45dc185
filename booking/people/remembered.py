"""This process's memory of the actor each person's bearer token stood for when last read, for
the one request that checks it in its own statement instead of reading it first: booking a
place (`kernel.actors.Vouch`, `bookings.vouch`). Nothing else takes an actor from it.

Only person-scoped tokens of people are remembered (a service token notes its last use when
read; a records token is no person). Bounded: past `size` tokens the oldest remembered is
forgotten, so a process holds at most a few megabytes whatever the number of tokens."""

from __future__ import annotations

from booking.kernel.actors import Actor
from booking.people.tokens import TOKEN_PREFIX, hash_token

SIZE = 10_000


class RememberedTokens:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._actors: dict[str, Actor] = {}

    def recall(self, token: str) -> tuple[str, Actor] | None:
        """The token's hash and the actor remembered for it, if any."""
        token_hash = hash_of(token)
        if token_hash is None:
            return None
        actor = self._actors.get(token_hash)
        return None if actor is None else (token_hash, actor)

    def remember(self, token_hash: str, actor: Actor) -> None:
        self._actors.pop(token_hash, None)
        self._actors[token_hash] = actor
        if len(self._actors) > self.size:
            del self._actors[next(iter(self._actors))]

    def forget(self, token_hash: str) -> None:
        self._actors.pop(token_hash, None)

    def __len__(self) -> int:
        return len(self._actors)


def hash_of(token: str) -> str | None:
    """The token's hash as stored, or None for what cannot be one of our tokens."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return hash_token(token)
