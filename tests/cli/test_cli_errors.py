"""The `breakingon` command on a bad environment: an unusable BREAKINGON_DATA_DIR is one
clear error line and a non-zero exit, never a traceback; the default public base URL
follows the server's host and port (environment, --host, --port)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import breakingon.cli.sources  # noqa: F401  (registers `stats` on the app)
from breakingon.cli.app import app
from breakingon.settings import Settings, load_settings, server_url, with_server_address

ROOT = Path(__file__).resolve().parents[2]


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["BREAKINGON_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _unusable(tmp_path: Path, kind: str) -> Path:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    if kind == "file":
        return a_file
    if kind == "under-a-file":
        return a_file / "data"
    if kind == "db-is-a-directory":
        (tmp_path / "d" / "breakingon.sqlite").mkdir(parents=True)
        return tmp_path / "d"
    if kind == "read-only":
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: a read-only directory is still writable")
        return ro
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["file", "under-a-file", "db-is-a-directory", "read-only"])
@pytest.mark.parametrize("args", [("stats",), ("sources", "list"), ("web", "--port", "1")])
def test_an_unusable_data_dir_is_one_clear_line(
    tmp_path: Path, kind: str, args: tuple[str, ...]
) -> None:
    out = _run(_unusable(tmp_path, kind), *args)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "BREAKINGON_DATA_DIR" in lines[0] or "database" in lines[0]


def test_an_unusable_data_dir_through_the_typer_app(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["stats"], env={"BREAKINGON_DATA_DIR": str(_unusable(tmp_path, "file"))}
    )
    assert result.exit_code == 3
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "exists and is not a directory" in result.output


def test_the_default_public_base_url_follows_host_and_port() -> None:
    assert Settings().public_base_url == "http://127.0.0.1:8080"
    assert load_settings({"BREAKINGON_PORT": "9000"}).public_base_url == "http://127.0.0.1:9000"
    env = {"BREAKINGON_HOST": "0.0.0.0", "BREAKINGON_PORT": "9001"}
    assert load_settings(env).public_base_url == "http://127.0.0.1:9001"
    moved = with_server_address(Settings(), None, 9100)
    assert moved.port == 9100 and moved.public_base_url == "http://127.0.0.1:9100"
    moved = with_server_address(load_settings({"BREAKINGON_PORT": "9000"}), "::1", 9200)
    assert moved.public_base_url == "http://[::1]:9200"
    explicit = load_settings({"BREAKINGON_PUBLIC_BASE_URL": "https://news.example.org"})
    assert with_server_address(explicit, None, 9300).public_base_url == "https://news.example.org"
    assert server_url("::", 80) == "http://[::1]:80"
