"""CLI commands: `users add|list|remove|passwd|token|disable|enable` (readers' accounts).

A password is read from standard input, never from the command line (where `ps` and
the shell history would keep it): at a terminal it is asked twice without echo,
otherwise the first line of standard input is the password. It is never printed or
logged. `users token NAME` prints a new API token once; only its sha256 is stored.
Composition only: names and hashes come from `breakingon.accounts`, rows go through
the store's `UserStore`.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from breakingon.accounts import (
    InvalidName,
    PasswordError,
    fever_key_hash,
    hash_password,
    new_api_token,
    token_hash,
    validate_name,
    validate_password,
)
from breakingon.cli.app import app, fail, load, open_configured_store
from breakingon.store import UserStore

users_app = typer.Typer(help="Manage readers' accounts (optional).", no_args_is_help=True)
app.add_typer(users_app, name="users")

NoFever = Annotated[
    bool,
    typer.Option(
        "--no-fever",
        help="Keep no Fever API key for this user (the Fever API then refuses them).",
    ),
]


def _name(name: str) -> str:
    try:
        return validate_name(name)
    except InvalidName as exc:
        fail(str(exc))
        raise  # unreachable


def read_password() -> str:
    """The new password: asked twice at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            fail("the passwords differ")
        password = first
    else:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    try:
        return validate_password(password)
    except PasswordError as exc:
        fail(str(exc))
        raise  # unreachable


def _store() -> UserStore:
    return open_configured_store(load())


def _hashes(name: str, password: str, no_fever: bool) -> tuple[str, str | None]:
    return hash_password(password), None if no_fever else fever_key_hash(name, password)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The user name (letters, digits, _ . -).")],
    no_fever: NoFever = False,
) -> None:
    """Add a user; the password comes from standard input."""
    name = _name(name)
    store = _store()
    if store.find_user(name) is not None:
        fail(f"there is already a user {name!r}")
    password = read_password()
    pw_hash, fever = _hashes(name, password, no_fever)
    if store.add_user(name, pw_hash, fever, datetime.now(UTC)) is None:
        fail(f"there is already a user {name!r}")
    typer.echo(f"added user {name}")


@users_app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the users (never their hashes)."""
    rows = [
        {
            "name": u.name,
            "created_at": u.created_at.isoformat(),
            "disabled": u.disabled,
            "api_token": u.api_token_hash is not None,
            "fever": u.fever_key_hash is not None,
        }
        for u in _store().list_users()
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no users yet: `breakingon users add NAME` (password on stdin)")
    for r in rows:
        flags = [f for f in ("disabled", "api_token", "fever") if r[f]]
        typer.echo(f"{r['name']}\t{r['created_at']}\t{','.join(flags)}")


@users_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Delete a user with their follows and read states."""
    if not _store().remove_user(_name(name)):
        fail(f"no user {name!r}", code=1)
    typer.echo(f"removed user {name}")


@users_app.command("passwd")
def passwd(
    name: Annotated[str, typer.Argument(help="The user name.")],
    no_fever: NoFever = False,
) -> None:
    """Set a user's password (from standard input). Reader apps signed in with the old
    password must sign in again."""
    name = _name(name)
    store = _store()
    if store.find_user(name) is None:
        fail(f"no user {name!r}", code=1)
    password = read_password()
    pw_hash, fever = _hashes(name, password, no_fever)
    if not store.set_user_password(name, pw_hash, fever):
        fail(f"no user {name!r}", code=1)
    typer.echo(f"password of {name} changed")


@users_app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="The user name.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Remove the user's token, make no new one.")
    ] = False,
) -> None:
    """Print a new API token for the user (once; it replaces the previous one)."""
    name = _name(name)
    fresh = None if revoke else new_api_token()
    if not _store().set_user_token(name, token_hash(fresh) if fresh else None):
        fail(f"no user {name!r}", code=1)
    typer.echo(fresh if fresh else f"token of {name} revoked")


def _set_disabled(name: str, disabled: bool) -> None:
    if not _store().set_user_disabled(_name(name), disabled):
        fail(f"no user {name!r}", code=1)
    typer.echo(f"{'disabled' if disabled else 'enabled'} user {name}")


@users_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Refuse the user's sign-ins and tokens, keeping their data."""
    _set_disabled(name, True)


@users_app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Let a disabled user in again."""
    _set_disabled(name, False)
