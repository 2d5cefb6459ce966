"""The storage contract is split by consumer: each method is declared by exactly one
protocol, `Store` is their union, and `SQLStore` implements every method."""

from __future__ import annotations

import inspect

from breakingon.store import (
    AlertStore,
    ArticleClaims,
    ClusterStore,
    CrawlStore,
    ImageStore,
    LeaseStore,
    OpsStore,
    ReaderStore,
    ReadStore,
    SourceStore,
    SQLStore,
    Store,
    StoryStore,
    UserStore,
    WebStore,
    WebSubStore,
)

PARTS = (
    ReadStore,
    SourceStore,
    ArticleClaims,
    CrawlStore,
    WebSubStore,
    LeaseStore,
    ClusterStore,
    StoryStore,
    ImageStore,
    OpsStore,
    UserStore,
    ReaderStore,
    AlertStore,
)


def _own_methods(proto: type) -> set[str]:
    return {
        name
        for name, value in vars(proto).items()
        if inspect.isfunction(value) and not name.startswith("_")
    }


def _methods(proto: type) -> set[str]:
    return {name for klass in proto.__mro__ for name in _own_methods(klass)}


def test_each_method_is_declared_once() -> None:
    seen: dict[str, str] = {}
    for proto in (*PARTS, WebStore, Store):
        for name in _own_methods(proto):
            assert name not in seen, f"{name} is in {seen[name]} and {proto.__name__}"
            seen[name] = proto.__name__


def test_store_is_the_union_of_the_parts() -> None:
    union = set().union(*(_methods(p) for p in PARTS))
    assert _methods(Store) == union | {"close"}
    assert _methods(WebStore) == (
        _methods(SourceStore)
        | _methods(OpsStore)
        | _methods(UserStore)
        | _methods(ReaderStore)
        | _methods(AlertStore)
    )


def test_sql_store_implements_every_method() -> None:
    missing = sorted(n for n in _methods(Store) if not callable(getattr(SQLStore, n, None)))
    assert not missing
