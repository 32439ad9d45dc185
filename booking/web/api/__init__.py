"""JSON API v1 under /api/v1 (the users' guide is docs/api.md)."""
