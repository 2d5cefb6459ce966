"""The `breakingon` command as an operator runs it (a real process, a real SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env["BREAKINGON_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_list_json_shows_catalogue(tmp_path: Path) -> None:
    out = json.loads(run(tmp_path, "sources", "list", "--json").stdout)
    assert len(out) >= 400
    assert {"url", "outlet", "country", "language", "sections", "place"} <= set(out[0])
    stats = json.loads(run(tmp_path, "stats", "--json").stdout)
    assert stats["feeds"] == len(out) and stats["articles"] == 0 and stats["stories"] == 0


def test_add_remove_and_errors(tmp_path: Path) -> None:
    assert (
        "added"
        in run(
            tmp_path,
            "sources",
            "add",
            "https://news.example/rss",
            "--outlet",
            "News",
            "--country",
            "fr",
            "--section",
            "world",
        ).stdout
    )
    assert "already present" in run(tmp_path, "sources", "add", "HTTPS://NEWS.example/rss/").stdout
    bad = run(tmp_path, "sources", "add", "file:///etc/passwd", ok=False)
    assert bad.returncode == 2 and "scheme 'file'" in bad.stderr and "Traceback" not in bad.stderr
    assert "removed" in run(tmp_path, "sources", "remove", "https://news.example/rss").stdout
    missing = run(tmp_path, "sources", "remove", "https://news.example/rss", ok=False)
    assert missing.returncode == 1


def test_opml_round_trip_through_the_database(tmp_path: Path) -> None:
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="World">'
        '<outline text="Le Monde" xmlUrl="https://lemonde.example/rss" country="FR" language="fr"/>'
        '<outline text="Local" xmlUrl="https://local.example/feed" place="USA | Boston"/>'
        "</outline></body></opml>"
    )
    assert "imported 2 new feeds" in run(tmp_path, "sources", "import-opml", str(opml)).stdout
    out = tmp_path / "out.opml"
    run(tmp_path, "sources", "export-opml", "--output", str(out))
    other = tmp_path / "other"
    other.mkdir()
    assert "imported 2 new feeds" in run(other, "sources", "import-opml", str(out)).stdout
    feeds = json.loads(run(other, "sources", "list", "--json").stdout)
    by_url = {f["url"]: f for f in feeds}
    assert by_url["https://lemonde.example/rss"]["country"] == "FR"
    assert by_url["https://lemonde.example/rss"]["sections"] == ["world"]
    assert by_url["https://local.example/feed"]["place"] == "USA | Boston"
    assert (
        "imported 0 new feeds (2 already present)"
        in run(other, "sources", "import-opml", str(out)).stdout
    )


def test_bad_opml_is_a_clear_error_and_stores_nothing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body>'
        '<outline text="&a;" xmlUrl="https://x.example/"/></body></opml>'
    )
    proc = run(tmp_path, "sources", "import-opml", str(bomb), ok=False)
    assert proc.returncode == 2 and "DTDs and entities" in proc.stderr
    missing = run(tmp_path, "sources", "import-opml", str(tmp_path / "nope.opml"), ok=False)
    assert missing.returncode == 2 and "No such file" in missing.stderr


def test_bad_setting_names_the_variable(tmp_path: Path) -> None:
    env = dict(os.environ, BREAKINGON_DATABASE_URL="mysql://nope")
    proc = subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", "stats"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "BREAKINGON_DATABASE_URL" in proc.stderr
