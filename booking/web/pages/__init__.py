"""HTML pages: server-rendered, working without JavaScript, enhanced with htmx.

One module per area (the learner's catalogue and booking, my bookings, approvals, the roster,
records, administrators' sessions, the outbox, the calendar feed, signing in); forms are read in
`forms.py` and `session_form.py` / `session_input.py`; every handler answers through
`render.py`, and templates format with `formatting.py`. `routes.py` mounts them all."""
