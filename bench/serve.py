"""uvicorn as `booking serve` runs it, for any app factory: the app's own logging configuration
(one JSON access line per request, written by the app; uvicorn's access log off), no server
header, the bounded request headers and keep-alive of `booking.serving`, proxy headers.

    python -m bench.serve FACTORY PORT

(`booking serve` itself also migrates, loads the demo and starts the in-process job worker;
the benchmark sets its database up itself and runs no worker.)
"""

from __future__ import annotations

import sys

import uvicorn

from booking import logs, serving
from booking.config import Settings


def main() -> None:
    factory, port = sys.argv[1], int(sys.argv[2])
    settings = Settings.from_env()
    uvicorn.run(
        factory,
        factory=True,
        host="127.0.0.1",
        port=port,
        proxy_headers=True,
        log_config=logs.log_config(settings),
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        **serving.uvicorn_options(settings),
    )


if __name__ == "__main__":
    main()
