"""HTTP: JSON API v1 (`api/`, one module per area, mounted by `api/router.py`) and
server-rendered pages with htmx (`pages/`, mounted by `pages/routes.py`)."""
