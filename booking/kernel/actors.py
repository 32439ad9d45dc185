"""Who is acting: a person with roles, or a machine client with a scope."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("learner", "trainer", "budget_holder", "admin")


@dataclass(frozen=True, slots=True)
class Actor:
    person_id: int | None
    email: str
    name: str
    roles: frozenset[str]
    # "person" acts with the person's roles; "records" may use the records endpoints only.
    scope: str = "person"

    @property
    def is_admin(self) -> bool:
        return self.scope == "person" and "admin" in self.roles

    @property
    def label(self) -> str:
        return self.email

    @classmethod
    def system(cls) -> Actor:
        return cls(None, "system", "System", frozenset(), "system")
