"""`breakingon alerts ...` as an operator runs it: add (the webhook secret shown once),
list (secrets hidden), test (a real signed POST to a loopback receiver), mute, remove
(only the named reader's rules), vapid-keys, and one clear line for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from receiver import Receiver

from breakingon.alerts.webhook import verify
from breakingon.alerts.webpush import public_key_of

pytestmark = pytest.mark.timeout(300)


def run(
    tmp_path: Path, *args: str, stdin: str = "", ok: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env["BREAKINGON_DATA_DIR"] = str(tmp_path / "data")
    env["BREAKINGON_FETCH_ALLOW_NETWORKS"] = "127.0.0.0/8"
    proc = subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_alert_rules_from_the_command_line(tmp_path: Path) -> None:
    run(tmp_path, "users", "add", "alice", stdin="correct horse battery\n")
    run(tmp_path, "users", "add", "bob", stdin="another good password\n")
    with Receiver() as rx:
        added = json.loads(
            run(
                tmp_path, "alerts", "add", "alice", "breaking", "webhook", "--url", rx.url("/in")
            ).stdout
        )
        secret = added["config"]["secret"]
        assert added["kind"] == "breaking" and added["channel"] == "webhook" and len(secret) >= 32
        run(
            tmp_path,
            "alerts",
            "add",
            "bob",
            "search",
            "email",
            "--target",
            "rate cut",
            "--to",
            "bob@example.org",
            "--digest",
            "hourly",
        )
        rows = [json.loads(x) for x in run(tmp_path, "alerts", "list").stdout.splitlines()]
        assert [(r["user"], r["kind"], r["target"]) for r in rows] == [
            ("alice", "breaking", ""),
            ("bob", "search", "rate cut"),
        ]
        assert rows[0]["config"]["secret"] == "(hidden)" and secret not in json.dumps(rows)
        rid = added["id"]
        out = run(tmp_path, "alerts", "test", "alice", str(rid))
        assert "test alert sent" in out.stdout
        [got] = rx.received
        assert verify(secret, got.body, got.headers, datetime.now(UTC))
        assert json.loads(got.body)["event"] == "test"
    # bob cannot remove, mute or test alice's rule
    for cmd in (
        ("remove", "bob", str(rid)),
        ("mute", "bob", str(rid), "--for", "1h"),
        ("test", "bob", str(rid)),
    ):
        denied = run(tmp_path, "alerts", *cmd, ok=False)
        assert denied.returncode == 1 and f"bob has no alert rule {rid}" in denied.stderr
    muted = run(tmp_path, "alerts", "mute", "alice", str(rid), "--for", "2h").stdout
    assert "muted until" in muted
    assert json.loads(run(tmp_path, "alerts", "list", "alice").stdout)["muted_until"] is not None
    assert "unmuted" in run(tmp_path, "alerts", "mute", "alice", "--off").stdout
    assert "removed alert rule" in run(tmp_path, "alerts", "remove", "alice", str(rid)).stdout
    assert run(tmp_path, "alerts", "list", "alice").stdout == ""
    keys = run(tmp_path, "alerts", "vapid-keys").stdout.splitlines()
    private = keys[0].split("=", 1)[1]
    assert keys[0].startswith("BREAKINGON_VAPID_PRIVATE_KEY=") and public_key_of(private) in keys[1]


BAD = [
    (("add", "alice", "breaking", "webhook", "--url", "http://10.1.2.3/hook"), "10.1.2.3"),
    (
        ("add", "alice", "breaking", "webhook", "--url", "http://169.254.169.254/"),
        "169.254.169.254",
    ),
    (("add", "alice", "breaking", "webhook"), "url: required"),
    (
        (
            "add",
            "alice",
            "breaking",
            "webhook",
            "--url",
            "https://h.example/",
            "--to",
            "a@b.example",
        ),
        "--to is not an option",
    ),
    (("add", "alice", "weather", "webpush"), "kind: one of"),
    (("add", "alice", "breaking", "email", "--to", "nobody"), "to:"),
    (("add", "zed", "breaking", "webpush"), "no user 'zed'"),
    (("mute", "alice", "--for", "soon"), "expected a number"),
    (("mute", "alice"), "exactly one of"),
]


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    run(tmp_path, "users", "add", "alice", stdin="correct horse battery\n")
    for args, needle in BAD:
        proc = run(tmp_path, "alerts", *args, ok=False)
        assert proc.returncode in (1, 2) and needle in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert run(tmp_path, "alerts", "list").stdout == ""  # nothing was added
