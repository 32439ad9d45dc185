from tests.web.conftest import browser, open_browser  # noqa: F401  (shared fixtures)
