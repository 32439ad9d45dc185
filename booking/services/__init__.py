"""Use cases. Each public function is one transaction, owned here; web, jobs and CLI call these."""
