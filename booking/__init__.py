"""Workshop booking and waitlist server."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
