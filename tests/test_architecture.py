"""Guard rails of the package layout: dependencies declared, modules small, layers kept.

The import contracts are read from pyproject.toml ([tool.importlinter], the ones
`lint-imports` checks in scripts/test) and evaluated here over grimp's import graph, so
a broken rule shows in the test run with the offending import.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import grimp
import pytest

from breakingon.stopwords import ENGLISH_STOP_WORDS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "breakingon"
MAX_MODULE_LINES = 600
TOP_LEVEL_MODULES = {
    "__init__.py",
    "injection.py",
    "records.py",
    "settings.py",
    "stopwords.py",
    "text.py",
}


@cache
def _config() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        config: dict[str, Any] = tomllib.load(fh)["tool"]["importlinter"]
    return config


@cache
def _graph() -> grimp.ImportGraph:
    config = _config()
    return grimp.build_graph(
        *config["root_packages"],
        include_external_packages=bool(config.get("include_external_packages")),
        cache_dir=None,
    )


def _contracts() -> list[dict[str, Any]]:
    contracts: list[dict[str, Any]] = _config()["contracts"]
    return contracts


def _edge(spec: str) -> tuple[str, str]:
    importer, _, imported = spec.partition(" -> ")
    return importer.strip(), imported.strip()


def _within(graph: grimp.ImportGraph, module: str) -> set[str]:
    if module not in graph.modules:
        return set()
    if graph.is_module_squashed(module):
        return {module}
    return {module} | graph.find_descendants(module)


def _line(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    lines = ", ".join(f"l.{d['line_number']}" for d in details)
    return f"{importer} -> {imported}" + (f" ({lines})" if lines else "")


def forbidden_violations(graph: grimp.ImportGraph, contract: Mapping[str, Any]) -> list[str]:
    """The imports that break a `forbidden` contract, import-linter's way: every chain
    from a source to a forbidden module (direct imports only with
    allow_indirect_imports), after the contract's ignore_imports are taken out."""
    graph = copy.deepcopy(graph)
    for spec in contract.get("ignore_imports", []):
        importer, imported = _edge(spec)
        if graph.direct_import_exists(importer=importer, imported=imported):
            graph.remove_import(importer=importer, imported=imported)
    direct_only = bool(contract.get("allow_indirect_imports"))
    found: list[str] = []
    for source in contract["source_modules"]:
        for forbidden in contract["forbidden_modules"]:
            targets = _within(graph, forbidden)
            if not targets or source not in graph.modules:
                continue
            if direct_only:
                for importer in sorted(_within(graph, source)):
                    hit = graph.find_modules_directly_imported_by(importer) & targets
                    found.extend(_line(graph, importer, imported) for imported in sorted(hit))
            else:
                chains = graph.find_shortest_chains(importer=source, imported=forbidden)
                found.extend(" -> ".join(chain) for chain in sorted(chains))
    return found


def _ids() -> Iterator[str]:
    for contract in _contracts():
        yield str(contract["id"])


@pytest.mark.parametrize("contract_id", list(_ids()))
def test_import_contract(contract_id: str) -> None:
    contract = next(c for c in _contracts() if c["id"] == contract_id)
    assert contract["type"] == "forbidden"  # the only kind the checker above evaluates
    broken = forbidden_violations(_graph(), contract)
    assert not broken, f"{contract['name']}:\n  " + "\n  ".join(broken)


@pytest.mark.parametrize("contract_id", list(_ids()))
def test_ignored_imports_still_exist(contract_id: str) -> None:
    """An exception for an import that is gone must be deleted (lint-imports agrees)."""
    contract = next(c for c in _contracts() if c["id"] == contract_id)
    graph = _graph()
    stale = [
        spec
        for spec in contract.get("ignore_imports", [])
        if not graph.direct_import_exists(importer=_edge(spec)[0], imported=_edge(spec)[1])
    ]
    assert not stale, f"delete these ignore_imports of {contract_id}: {stale}"


def test_the_checker_sees_direct_and_indirect_imports() -> None:
    """The evaluation itself, on a small graph: a chain through a third module counts
    unless indirect imports are allowed, and ignore_imports removes exactly one edge."""
    graph = grimp.ImportGraph()
    for module in ("app", "app.stage", "app.stage.a", "app.helper", "app.store", "httpx"):
        graph.add_module(module)
    graph.add_import(importer="app.stage.a", imported="app.helper")
    graph.add_import(importer="app.helper", imported="app.store")
    graph.add_import(importer="app.helper", imported="httpx")
    contract: dict[str, Any] = {"source_modules": ["app.stage"], "forbidden_modules": []}
    indirect = {**contract, "forbidden_modules": ["app.store"]}
    assert forbidden_violations(graph, indirect) == ["app.stage.a -> app.helper -> app.store"]
    direct = {**indirect, "allow_indirect_imports": True}
    assert forbidden_violations(graph, direct) == []
    graph.add_import(importer="app.stage.a", imported="httpx")
    sockets = {**contract, "forbidden_modules": ["httpx", "aiohttp"], "allow_indirect_imports": 1}
    assert forbidden_violations(graph, sockets) == ["app.stage.a -> httpx"]
    ignored = {**sockets, "ignore_imports": ["app.stage.a -> httpx"]}
    assert forbidden_violations(graph, ignored) == []


def test_only_the_shared_modules_sit_at_the_top_level() -> None:
    """Everything else lives in the package of its stage."""
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL_MODULES, f"move into a package: {sorted(top - TOP_LEVEL_MODULES)}"


def test_no_module_is_over_600_lines() -> None:
    """A module a newcomer can read in one sitting; data files (data/, templates,
    static assets) are not modules and are not counted."""
    lines = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    long = {name: n for name, n in lines.items() if n > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_english_stop_words_are_scikit_learns_list_word_for_word() -> None:
    """The copied list must stay scikit-learn's (ENGLISH_STOP_WORDS of scikit-learn 1.x):
    clustering terms and place tagging drop exactly these words, and the README figures
    were measured with them."""
    assert len(ENGLISH_STOP_WORDS) == 318
    digest = hashlib.sha256(" ".join(sorted(ENGLISH_STOP_WORDS)).encode()).hexdigest()
    assert digest == "e570e9b41eab43e963c44d1d8b7ad441d084fa84f1104e01c9e8b41ad43feb89"
