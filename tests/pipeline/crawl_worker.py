"""A crawl worker for test_crash: `python crawl_worker.py DATABASE_URL` runs the crawl
loops of `Pipeline` (no clustering) against the newsroom the test serves on loopback,
until SIGTERM (or SIGKILL, which is the point). Touches only the database it is given."""

from __future__ import annotations

import asyncio
import signal
import sys

from breakingon.pipeline import Pipeline
from breakingon.settings import Settings, parse_networks
from breakingon.store import open_store


def main() -> None:
    url = sys.argv[1]
    settings = Settings(
        database_url=url,
        fetch_allow_networks=parse_networks("allow", "127.0.0.0/8"),
        per_host_delay_s=0.3,
        lease_s=3,
        extract_workers=1,
        fetch_timeout_s=5.0,
    )
    store = open_store(url)
    pipeline = Pipeline(settings, store, crawl=True, process=False)

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await pipeline.run(stop)

    asyncio.run(run())
    store.close()


if __name__ == "__main__":
    main()
