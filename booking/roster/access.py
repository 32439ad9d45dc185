"""Who may run a session: its trainers and administrators (`policy.can_run_session`).

A person who can see the session but may not run it is told so (403); anyone else, and anyone
asking about a draft, is told there is no such session (404).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.history import facilitator_ids
from booking.kernel.locks import lock_session
from booking.models import Session as SessionRow


async def session_for_trainer(
    s: AsyncSession, actor: Actor, session_id: int, *, lock: bool = False
) -> SessionRow:
    """The session `actor` may run (locked when `lock`), or the refusal."""
    session = await lock_session(s, session_id) if lock else await s.get(SessionRow, session_id)
    if session is None:
        raise NotFoundError(f"There is no session {session_id}.")
    if not policy.can_run_session(actor, await facilitator_ids(s, session.id)):
        if policy.knows_session_exists(actor, session.status):
            raise ForbiddenError("Only the session's trainers and administrators can do this.")
        raise NotFoundError(f"There is no session {session_id}.")
    return session
