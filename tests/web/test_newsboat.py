"""A real reader app no one here wrote: Debian's newsboat in FeedHQ mode (the Google
Reader API) against the site served on 127.0.0.1.

newsboat signs in with ClientLogin, lists the user's subscriptions, reloads their
Atom streams and prints the unread count (`-x reload print-unread`). Its `-x` mode has
no command to mark an article read, so the test drives its interactive screen through
a pseudo-terminal: open the feed, toggle the first article read (`N`), quit. newsboat
then calls `edit-tag`, and the API shows the story read; a second `-x reload
print-unread` prints one unread fewer. Only loopback is contacted: the special feeds
(hard-coded to feedhq.org) are switched off.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from webfill import fill_store, make_settings, serve_app

from breakingon.accounts import hash_password
from breakingon.store import Store, open_store
from breakingon.store.base_accounts import ItemQuery
from breakingon.web import create_app

NEWSBOAT = shutil.which("newsboat")
PASSWORD = "correct horse battery"

if NEWSBOAT is None:
    if os.environ.get("CI"):
        raise RuntimeError("newsboat must be installed in CI (scripts/test installs it)")
    pytestmark = pytest.mark.skip(
        reason="Debian's newsboat is not installed (apt-get install newsboat)"
    )


class Screen:
    """newsboat on a pseudo-terminal: keys in, screen bytes out."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.execve(args[0], args, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
        self.out = b""

    def wait_for(self, text: bytes, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"newsboat never showed {text!r}: {self.out[-500:]!r}"
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if ready:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    break

    def key(self, k: bytes) -> None:
        self.out = b""
        os.write(self.fd, k)

    def close(self) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:
                select.select([self.fd], [], [], 0.2)
                os.read(self.fd, 65536)
            except OSError:
                time.sleep(0.1)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        raise AssertionError("newsboat did not quit")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Store, int, str]]:
    store = open_store(f"sqlite:///{tmp_path / 'site.sqlite'}")
    filled = fill_store(store)
    user = store.add_user("reader", hash_password(PASSWORD), None, filled.now)
    assert user is not None
    store.add_follow(user.id, "top", "", "Top stories", filled.now)
    store.add_follow(user.id, "section", "science", "Science", filled.now)
    app = create_app(make_settings(public_base_url="http://127.0.0.1:9"), store)
    try:
        with serve_app(app) as base:
            yield store, user.id, base
    finally:
        store.close()


def _config(tmp_path: Path, base: str) -> tuple[list[str], dict[str, str]]:
    home = tmp_path / "home"
    (home / ".newsboat").mkdir(parents=True)
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    config = tmp_path / "config"
    config.write_text(
        'urls-source "feedhq"\n'
        f'feedhq-url "{base}/api/greader"\n'
        'feedhq-login "reader"\n'
        f'feedhq-passwordfile "{secret}"\n'
        "feedhq-show-special-feeds no\n"
        "feedhq-min-items 50\n"
    )
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "xterm", "LANG": "C.UTF-8"}
    args = [str(NEWSBOAT), "-C", str(config), "-c", str(tmp_path / "cache.db")]
    args += ["-u", str(tmp_path / "urls")]
    return args, env


def _print_unread(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(
        [*args, "-x", "reload", "print-unread"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_newsboat_reads_and_marks_through_the_google_reader_api(
    site: tuple[Store, int, str], tmp_path: Path
) -> None:
    store, uid, base = site
    now = store.last_change()
    assert now is not None
    follows = tuple(store.list_follows(uid))

    def unread() -> list[int]:
        q = ItemQuery(uid, now, follows=follows, read=False, limit=100)
        return [i.story.id for i in store.reader_items(q)]

    before = unread()
    assert len(before) == 4  # the four listed stories; the science one is also in top
    args, env = _config(tmp_path, base)
    assert _print_unread(args, env) == f"{len(before)} unread articles"

    screen = Screen(args, env)
    try:
        screen.wait_for(b"Your feeds")
        screen.key(b"\r")  # open the first feed
        screen.wait_for(b"Articles in feed")
        screen.key(b"N")  # toggle the first article's read flag: newsboat calls edit-tag
        deadline = time.monotonic() + 20
        while len(unread()) == len(before):
            assert time.monotonic() < deadline, "newsboat's mark-read never reached the API"
            time.sleep(0.2)
        screen.key(b"q")
        screen.wait_for(b"Your feeds")
        screen.key(b"q")
    finally:
        code = screen.close()
    assert code == 0
    after = unread()
    assert len(after) == len(before) - 1
    (marked,) = set(before) - set(after)
    state = store.item_states(uid, [marked])[marked]
    assert state.read_at is not None and state.starred_at is None
    # newsboat sees the read state the server keeps, after a fresh reload too.
    assert _print_unread(args, env) == f"{len(after)} unread articles"
