"""`breakingon users ...` as an operator runs it: the password comes on stdin and is
never echoed, tokens are printed once and stored hashed, errors are one clear line."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

PASSWORD = "correct horse battery"


def run(
    tmp_path: Path, *args: str, stdin: str = "", ok: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env["BREAKINGON_DATA_DIR"] = str(tmp_path / "data")
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


def _db(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "data" / "breakingon.sqlite")


def test_users_lifecycle(tmp_path: Path) -> None:
    added = run(tmp_path, "users", "add", "alice", stdin=PASSWORD + "\n")
    assert "added user alice" in added.stdout
    assert PASSWORD not in added.stdout + added.stderr
    dup = run(tmp_path, "users", "add", "alice", stdin=PASSWORD + "\n", ok=False)
    assert dup.returncode == 2 and "already a user 'alice'" in dup.stderr
    run(tmp_path, "users", "add", "bob", "--no-fever", stdin=PASSWORD)
    rows = json.loads(run(tmp_path, "users", "list", "--json").stdout)
    assert [(r["name"], r["fever"], r["api_token"]) for r in rows] == [
        ("alice", True, False),
        ("bob", False, False),
    ]
    with _db(tmp_path) as db:
        pw_hash, fever = db.execute(
            "SELECT password_hash, fever_key_hash FROM users WHERE name='alice'"
        ).fetchone()
    assert pw_hash.startswith("$argon2id$") and PASSWORD not in pw_hash
    md5 = hashlib.md5(f"alice:{PASSWORD}".encode()).hexdigest()
    assert fever == hashlib.sha256(md5.encode()).hexdigest()

    token = run(tmp_path, "users", "token", "alice").stdout.strip()
    assert token.startswith("bo_")
    with _db(tmp_path) as db:
        (stored,) = db.execute("SELECT api_token_hash FROM users WHERE name='alice'").fetchone()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert json.loads(run(tmp_path, "users", "list", "--json").stdout)[0]["api_token"]
    run(tmp_path, "users", "token", "alice", "--revoke")
    assert not json.loads(run(tmp_path, "users", "list", "--json").stdout)[0]["api_token"]

    run(tmp_path, "users", "passwd", "alice", stdin="another password\n")
    with _db(tmp_path) as db:
        (new_hash,) = db.execute("SELECT password_hash FROM users WHERE name='alice'").fetchone()
    assert new_hash != pw_hash

    run(tmp_path, "users", "disable", "bob")
    assert json.loads(run(tmp_path, "users", "list", "--json").stdout)[1]["disabled"]
    run(tmp_path, "users", "enable", "bob")
    assert "removed user bob" in run(tmp_path, "users", "remove", "bob").stdout
    gone = run(tmp_path, "users", "remove", "bob", ok=False)
    assert gone.returncode == 1 and "no user 'bob'" in gone.stderr
    assert [r["name"] for r in json.loads(run(tmp_path, "users", "list", "--json").stdout)] == [
        "alice"
    ]


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    bad = run(tmp_path, "users", "add", "al ice", stdin=PASSWORD, ok=False)
    assert bad.returncode == 2 and "user name may hold only" in bad.stderr
    assert "Traceback" not in bad.stderr
    short = run(tmp_path, "users", "add", "alice", stdin="short\n", ok=False)
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    assert "short" not in short.stderr.replace("at least", "")  # the password is not echoed
    empty = run(tmp_path, "users", "add", "alice", stdin="", ok=False)
    assert empty.returncode == 2 and "at least 8" in empty.stderr
    none = run(tmp_path, "users", "passwd", "nobody", stdin=PASSWORD, ok=False)
    assert none.returncode == 1 and "no user 'nobody'" in none.stderr
    assert run(tmp_path, "users", "token", "nobody", ok=False).returncode == 1
    assert json.loads(run(tmp_path, "users", "list", "--json").stdout) == []
