"""No secret in any log line: the admin token, the LLM key, feed URL keys (userinfo,
query values), WebSub callback tokens and bearer headers are masked in every record,
whichever logger makes it; the settings' repr never shows a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from breakingon.cli import logsafe
from breakingon.settings import Settings

TOKEN = "admin-token-0123456789abcdef"
KEY = "sk-llm-key-9876543210"


@pytest.fixture()
def redacting() -> Iterator[None]:
    before = logging.getLogRecordFactory()
    logsafe._installed = False
    logsafe.install(Settings(admin_token=TOKEN, llm_api_key=KEY))
    try:
        yield
    finally:
        logging.setLogRecordFactory(before)
        logsafe._installed = False
        logsafe._secrets = ()


def test_log_records_carry_no_secret(redacting: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("breakingon.crawl.http", "uvicorn.access", "httpx"):
        logging.getLogger(name).warning(
            "refused %s via %s, auth %r key %s cb %s",
            "https://bob:hunter2@feeds.example/rss?token=s3cr3t&cat=world",
            "http://intranet.example/x?api_key=abc123",
            f"Authorization: Bearer {TOKEN}",
            KEY,
            "https://news.example.org/websub/AbCdEfGh0123456789_-xyz",
        )
    text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for secret in (TOKEN, KEY, "hunter2", "bob:", "s3cr3t", "abc123", "AbCdEfGh0123456789"):
        assert secret not in text, secret
    assert "https://feeds.example/rss?token=\u2026&cat=\u2026" in text  # still useful
    assert "/websub/***" in text and len(caplog.records) == 3


def test_reader_app_credentials_are_masked() -> None:
    text = logsafe.redact(
        "Authorization: GoogleLogin auth=alice/0123abcd body Email=alice&Passwd=hunter22&x=1 "
        "api_key=d41d8cd98f00b204e9800998ecf8427e"
    )
    for secret in ("0123abcd", "hunter22", "d41d8cd98f00b204e9800998ecf8427e"):
        assert secret not in text, secret
    assert "Email=alice" in text and "&x=1" in text


def test_settings_repr_shows_no_secret() -> None:
    shown = repr(Settings(admin_token=TOKEN, llm_api_key=KEY))
    assert TOKEN not in shown and KEY not in shown and "site_name" in shown
