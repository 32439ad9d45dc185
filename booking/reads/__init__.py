"""Read models several capabilities answer with: a booking as learners, trainers and the API see
it (over what approvals and payments know of it)."""
