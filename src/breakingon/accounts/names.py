"""User names: 1-64 characters of A-Z, a-z, 0-9, "_", "." and "-" (no spaces, no
colon: the Fever key is the md5 of "name:password")."""

from __future__ import annotations

import re

NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_NAME = 64


class InvalidName(ValueError):
    """A user name outside the rules; the message says why."""


def validate_name(name: str) -> str:
    """`name` when it is a valid user name, else InvalidName."""
    if not isinstance(name, str) or not name:
        raise InvalidName("a user name is 1-64 characters")
    if len(name) > MAX_NAME:
        raise InvalidName(f"a user name is at most {MAX_NAME} characters")
    if not NAME_RE.fullmatch(name):
        raise InvalidName('a user name may hold only letters, digits, "_", "." and "-"')
    return name
