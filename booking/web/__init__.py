"""HTTP: JSON API v1 (`api/`) and server-rendered pages with htmx (`pages.py`)."""
