"""The operator weight of an outlet: set with `breakingon sources set-weight NAME WEIGHT`
and read back from the store as `Outlet.weight` (what ranking multiplies coverage by)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from breakingon.records import Outlet
from breakingon.store import Store, open_store


def test_set_outlet_weight_reads_back(store: Store) -> None:
    oid = store.upsert_outlet(Outlet(name="Daily", country="FR"))
    other = store.upsert_outlet(Outlet(name="Weekly"))
    assert store.set_outlet_weight(oid, 2.5) is True
    o = store.get_outlet(oid)
    assert o is not None and o.weight == 2.5
    assert {x.name: x.weight for x in store.list_outlets()} == {"Daily": 2.5, "Weekly": 1.0}
    # learning more about the outlet (a catalogue reload) never resets the operator's weight
    store.upsert_outlet(Outlet(name="Daily", owner="X Group", weight=1.0))
    o = store.get_outlet(oid)
    assert o is not None and o.weight == 2.5 and o.owner == "X Group"
    assert store.set_outlet_weight(max(oid, other) + 100, 3.0) is False


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env["BREAKINGON_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _weights(tmp_path: Path) -> dict[str, float]:
    store = open_store(f"sqlite:///{(tmp_path / 'data' / 'breakingon.sqlite').resolve()}")
    try:
        return {o.name: o.weight for o in store.list_outlets()}
    finally:
        store.close()


def test_cli_set_weight_reaches_the_outlet(tmp_path: Path) -> None:
    for url, outlet in (
        ("https://news.example/rss", "News"),
        ("https://other.example/rss", "Other"),
    ):
        added = _cli(tmp_path, "sources", "add", url, "--outlet", outlet)
        assert added.returncode == 0, added.stderr
    done = _cli(tmp_path, "sources", "set-weight", "News", "2.5")
    assert done.returncode == 0, done.stderr
    assert "News: 1 -> 2.5" in done.stdout
    assert _weights(tmp_path) == {"News": 2.5, "Other": 1.0}
    top = _cli(tmp_path, "sources", "set-weight", "Other", "10")
    assert top.returncode == 0, top.stderr
    assert _weights(tmp_path) == {"News": 2.5, "Other": 10.0}


@pytest.mark.parametrize("weight", ["0", "10.5", "nan", "abc", "-1"])
def test_cli_set_weight_refuses_bad_weights(tmp_path: Path, weight: str) -> None:
    out = _cli(tmp_path, "sources", "set-weight", "News", weight)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    if weight in ("0", "10.5", "nan"):
        assert "expected a number above 0 and at most 10" in out.stderr
    assert not (tmp_path / "data").exists()  # refused before the store is opened


def test_cli_set_weight_unknown_outlet(tmp_path: Path) -> None:
    added = _cli(tmp_path, "sources", "add", "https://news.example/rss", "--outlet", "News")
    assert added.returncode == 0, added.stderr
    out = _cli(tmp_path, "sources", "set-weight", "news", "2")
    assert out.returncode == 2
    assert "no outlet named 'news'" in out.stderr and "'News'" in out.stderr
    assert "Traceback" not in out.stderr
    assert _weights(tmp_path) == {"News": 1.0}
