"""The kernel: the building blocks every use case uses inside its transaction — the transaction
and its retry (`tx`), row locks (`locks`), a booking's history (`history`), the outbox (`outbox`),
dates, shared views, errors, the actor, the audit log and the outbox claims."""
