"""JSON API v1 under /api/v1 (see design/API.md)."""
