"""Fixtures for the web tests: a real SQLite store filled through the Store API, the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webfill import FakeResolver, Filled, fill_store, make_settings

from breakingon.store import Store, open_store
from breakingon.web import create_app


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Filled]]:
    path: Path = tmp_path_factory.mktemp("web") / "web.sqlite"
    store = open_store(f"sqlite:///{path}")
    try:
        filled = fill_store(store)
        yield store, filled
    finally:
        store.close()


@pytest.fixture(scope="module")
def resolver() -> FakeResolver:
    return FakeResolver(
        {
            "internal.example": ["10.0.0.5"],
            "mixed.example": ["93.184.215.14", "127.0.0.1"],
            "metadata.google.internal": ["169.254.169.254"],
        }
    )


@pytest.fixture(scope="module")
def client(filled_store: tuple[Store, Filled], resolver: FakeResolver) -> Iterator[TestClient]:
    store, _ = filled_store
    app = create_app(make_settings(), store, resolver=resolver)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="module")
def filled(filled_store: tuple[Store, Filled]) -> Filled:
    return filled_store[1]
