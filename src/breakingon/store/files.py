"""Private file modes for the SQLite database, its journals and its backups.

The database holds WebSub secrets and every operator's data, so it is never readable by
other users: the data directory is made 0700 when BreakingOn creates it (or finds it
freshly made and empty), the database file is created 0600 before SQLite opens it
(SQLite gives its -wal, -shm and -journal files the database file's mode), and an
existing database, its journals and backups are brought to 0600. Best effort on
systems without POSIX modes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def make_private_dir(path: Path, database: str = "") -> None:
    """Create `path` (and its parents) with the last one 0700. An existing directory
    is made 0700 only when it is ours and holds nothing but the database `database`
    and its journals (just made for us, e.g. by the CLI, or BreakingOn's own data
    directory): a shared directory such as /tmp is never changed."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=DIR_MODE)
        return
    try:
        st = path.stat()
        ours = {database, *(database + side for side in SIDE_FILES)} if database else set()
        if st.st_uid == os.getuid() and all(p.name in ours for p in path.iterdir()):
            path.chmod(DIR_MODE)
    except (OSError, AttributeError):
        pass


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (then make it 0600)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        secure_database_files(path)
    else:
        os.close(fd)


def secure_database_files(path: Path) -> None:
    """Make the database file at `path` and its journals beside it 0600 (those that
    exist and are ours)."""
    for p in (path, *(Path(f"{path}{side}") for side in SIDE_FILES)):
        with contextlib.suppress(OSError):
            if p.is_file() and p.stat().st_mode & 0o077:
                p.chmod(FILE_MODE)
