"""A small long-lived JSON API client for the operator's own endpoints.

`ApiClient.post_json(url, payload, headers=..., timeout_s=...)` sends one JSON request
over a kept-alive connection pool and returns the decoded JSON answer. Every call has a
connect/read timeout and an overall deadline, the answer is read under a size cap, and
redirects are not followed. Failures are `ApiError` (an `OSError`: unreachable, timed
out, error status) or `ValueError` (over the cap, not JSON).

This client does NOT go through the SSRF policy (`crawl.netpolicy`) on purpose: its
URLs are the operator's own settings (the abstractive brief writer's
BREAKINGON_LLM_URL), often on loopback or a private network that the crawler's policy
refuses by design, and never a URL taken from a feed, a page or a request. Do not use it
for any URL that content supplies: that is what `crawl.http.Fetcher` is for.

It reads no environment (proxy variables are ignored, as in the crawler), touches
neither the store nor the web layer, and parses nothing but the JSON it is handed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from types import TracebackType

import httpx

from breakingon.crawl.http import DEFAULT_USER_AGENT

__all__ = ["ApiClient", "ApiError"]


class ApiError(OSError):
    """The endpoint could not be reached, timed out, or answered with an error status."""


class ApiClient:
    """One connection pool to the operator's JSON endpoints, shared by every call.

    Safe to share between threads (httpx's client is). `close()` (or `with`) releases
    the pool; a client is cheap to keep for the life of a process.
    """

    def __init__(
        self,
        *,
        timeout_s: float = 60.0,
        max_body_bytes: int = 4 * 1024 * 1024,
        user_agent: str = DEFAULT_USER_AGENT,
        max_connections: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self._client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": user_agent or DEFAULT_USER_AGENT},
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
        )

    def post_json(
        self,
        url: str,
        payload: Mapping[str, object],
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> object:
        """POST `payload` as JSON to `url`; the decoded JSON answer.

        `timeout_s` (default: the client's) bounds each connect and read and, as a
        deadline, the whole call. Raises ApiError or ValueError (see the module).
        """
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        body = bytearray()
        try:
            with self._client.stream(
                "POST", url, json=dict(payload), headers=dict(headers or {}), timeout=timeout
            ) as response:
                if not 200 <= response.status_code < 300:
                    raise ApiError(f"{url} answered HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_body_bytes:
                    raise ValueError(f"answer over {self.max_body_bytes} bytes")
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_body_bytes:
                        raise ValueError(f"answer over {self.max_body_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise ApiError(f"{url}: no complete answer within {timeout:g} s")
        except httpx.HTTPError as exc:
            raise ApiError(f"{type(exc).__name__}: {exc}") from exc
        return json.loads(bytes(body))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
