"""Settings: one frozen object, loaded once at the edge, validated once.

`load_settings(environ, path=None)` reads `BREAKINGON_*` environment variables and an
optional TOML file (the file's keys are the variable names without the prefix, in lower
case, e.g. `site_name = "Daily Wire"`; environment variables win). Errors name the
variable. `from_environment()` is the same over this process's environment: nothing
else in the package reads the environment.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PREFIX = "BREAKINGON_"
# The embedder's modes (breakingon.cluster.embed.PRECISIONS, kept equal by a test): named
# here so that loading settings imports no stage.
EMBED_PRECISIONS = ("auto", "float32", "bfloat16")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("./data")
    database_url: str = ""  # "" -> sqlite:///<data_dir>/breakingon.sqlite
    site_name: str = "BreakingOn"
    site_about: str = (
        "BreakingOn gathers reporting from outlets around the world, groups it into "
        "stories and writes neutral briefs in which every sentence is cited to its sources."
    )
    site_copyright: str = "© BreakingOn contributors. Briefs quote and cite the outlets named."
    # "" -> the address the web server is started on (`server_url(host, port)`)
    public_base_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    admin_token: str = field(default="", repr=False)  # "" disables the admin API
    fetch_allow_networks: tuple[Network, ...] = ()
    fetch_concurrency: int = 16
    per_host_concurrency: int = 1  # one request at a time per host, spaced by the delay
    per_host_delay_s: float = 1.0
    fetch_max_connections: int = 512  # cap on open sockets, idle keep-alives included
    min_poll_interval_s: int = 120
    max_poll_interval_s: int = 21600
    fetch_timeout_s: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    fetch_images: bool = True  # fetch, check and serve each story's lead image
    user_agent: str = ""
    extract_workers: int = 2
    extract_timeout_s: float = 10.0
    extract_memory_mb: int = 2048  # address-space cap of each extraction worker; 0: none
    embed_precision: str = "auto"  # "auto" (bfloat16 where the CPU has it), "float32", "bfloat16"
    retention_days: int = 0  # 0 keeps everything
    breaking_min_outlets: int = 3
    breaking_window_min: int = 30
    websub: bool = False  # subscribe to hubs; needs a public_base_url the hubs can reach
    llm_url: str = ""  # OpenAI-compatible endpoint for the optional abstractive writer
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    # the language a story's brief is written in when an outlet reported in it (ISO 639-1,
    # e.g. "en"); "" writes each brief in its story's dominant language
    brief_language: str = ""
    site_language: str = "en"  # the site's own language: <html lang>, feeds' language
    rate_limit_per_min: int = 600
    search_rate_limit_per_min: int = 30  # searches per client a minute (0: no own limit)
    search_concurrency: int = 4  # searches in flight at once, all clients (0: no cap)
    # Peers (reverse proxies) whose X-Forwarded-For the rate limiters believe.
    trusted_proxies: tuple[Network, ...] = ()
    web_max_header_bytes: int = 32 * 1024  # a request head over this gets 431
    web_header_timeout_s: float = 10.0  # a request head must be complete this soon
    web_body_timeout_s: float = 60.0  # and its body this soon after the head
    web_keepalive_s: float = 5.0  # an idle kept-alive connection is closed after this
    web_max_connections: int = 2048  # connections or requests in flight; past it 503
    # Readers' sign-in and alerts (docs/operations.md, "Alerts").
    session_secret: str = field(default="", repr=False)  # "" -> made once, kept in the store
    smtp_url: str = field(default="", repr=False)  # smtp://, smtp+starttls://, smtps://
    smtp_from: str = ""  # "" -> alerts@<the public base URL's host>
    vapid_private_key: str = field(default="", repr=False)  # Web Push; "" turns it off
    vapid_subject: str = ""  # mailto: or https: contact the push services see
    alert_interval_s: float = 2.0  # how often the alert stage scans stories and sends
    lease_s: int = 120
    log_level: str = "INFO"
    log_json: bool = False

    def __post_init__(self) -> None:
        for name in ("brief_language", "site_language"):  # "EN " is "en"
            object.__setattr__(self, name, str(getattr(self, name)).strip().lower())
        if not self.public_base_url:
            object.__setattr__(self, "public_base_url", server_url(self.host, self.port))

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'breakingon.sqlite').resolve()}"


def server_url(host: str, port: int) -> str:
    """The URL of a server bound to `host`:`port` (a wildcard bind reads as loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def with_server_address(s: Settings, host: str | None = None, port: int | None = None) -> Settings:
    """`s` with the web server's address overridden (`--host`, `--port`). A public base
    URL that was the server's own address (the default) follows it; one set to
    anything else stays."""
    new_host = host or s.host
    new_port = port or s.port
    follows = s.public_base_url.rstrip("/") == server_url(s.host, s.port)
    base = "" if follows else s.public_base_url
    changed = replace(s, host=new_host, port=new_port, public_base_url=base)
    _validate(changed)
    return changed


def parse_networks(name: str, value: str) -> tuple[Network, ...]:
    """Parse a comma-separated list of CIDRs, naming `name` in the error."""
    nets: list[Network] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise SettingsError(f"{name}: {part!r} is not a CIDR network ({exc})") from None
    return tuple(nets)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _convert(name: str, annotation: str, raw: Any) -> Any:
    try:
        if annotation == "Path":
            return Path(str(raw)).expanduser()
        if annotation == "int":
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(raw)
        if annotation == "float":
            return float(raw)
        if annotation == "bool":
            if isinstance(raw, bool):
                return raw
            low = str(raw).strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if annotation.startswith("tuple[Network"):
            if isinstance(raw, list):
                raw = ",".join(str(x) for x in raw)
            return parse_networks(name, str(raw))
        return str(raw)
    except SettingsError:
        raise
    except (TypeError, ValueError):
        raise SettingsError(f"{name}: expected {annotation}, got {raw!r}") from None


def load_settings(environ: Mapping[str, str], path: Path | str | None = None) -> Settings:
    """Build Settings from a TOML file (optional) and `environ` (wins over the file).

    The file may also be named by `BREAKINGON_CONFIG`.
    """
    file_values: dict[str, Any] = {}
    path = path or environ.get(PREFIX + "CONFIG") or None
    if path:
        p = Path(path)
        try:
            with p.open("rb") as fh:
                file_values = tomllib.load(fh)
        except FileNotFoundError:
            raise SettingsError(f"{PREFIX}CONFIG: file {p} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{PREFIX}CONFIG: {p} is not valid TOML ({exc})") from None
    known = {f.name: f for f in fields(Settings)}
    for key in file_values:
        if key not in known:
            raise SettingsError(f"{path}: unknown setting {key!r}")
    for key in environ:
        if (
            key.startswith(PREFIX)
            and key != PREFIX + "CONFIG"
            and key != PREFIX + "TEST_POSTGRES_URL"
        ):
            if key[len(PREFIX) :].lower() not in known:
                raise SettingsError(f"{key}: unknown setting")
    values: dict[str, Any] = {}
    for name, f in known.items():
        var = PREFIX + name.upper()
        if var in environ:
            values[name] = _convert(var, str(f.type), environ[var])
        elif name in file_values:
            values[name] = _convert(f"{path}: {name}", str(f.type), file_values[name])
    settings = Settings(**values)
    _validate(settings)
    return settings


def from_environment(path: Path | str | None = None) -> Settings:
    """`load_settings` over this process's environment (and BREAKINGON_CONFIG)."""
    return load_settings(os.environ, path)


def _validate(s: Settings) -> None:
    url = s.database_url
    if url and not url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
        raise SettingsError(
            f"{PREFIX}DATABASE_URL: expected sqlite:/// or postgresql://, got "
            f"{url.partition('://')[0]!r}"  # the scheme only: the rest may hold a password
        )
    if not (1 <= s.port <= 65535):
        raise SettingsError(f"{PREFIX}PORT: expected 1-65535, got {s.port}")
    if not s.public_base_url.startswith(("http://", "https://")):
        raise SettingsError(f"{PREFIX}PUBLIC_BASE_URL: expected an http(s) URL")
    if s.min_poll_interval_s <= 0 or s.max_poll_interval_s < s.min_poll_interval_s:
        raise SettingsError(
            f"{PREFIX}MIN_POLL_INTERVAL_S/{PREFIX}MAX_POLL_INTERVAL_S: need 0 < min <= max"
        )
    if s.admin_token and len(s.admin_token) < 16:
        raise SettingsError(f"{PREFIX}ADMIN_TOKEN: use at least 16 characters")
    if s.embed_precision not in EMBED_PRECISIONS:
        want, got = ", ".join(EMBED_PRECISIONS), s.embed_precision
        raise SettingsError(f"{PREFIX}EMBED_PRECISION: expected one of {want}, got {got!r}")
    if s.web_max_header_bytes < 1024:
        raise SettingsError(f"{PREFIX}WEB_MAX_HEADER_BYTES: use at least 1024")
    if min(s.web_header_timeout_s, s.web_body_timeout_s, s.web_keepalive_s) <= 0:
        raise SettingsError(
            f"{PREFIX}WEB_HEADER_TIMEOUT_S/WEB_BODY_TIMEOUT_S/WEB_KEEPALIVE_S: must be > 0"
        )
    for name, code in (("BRIEF_LANGUAGE", s.brief_language), ("SITE_LANGUAGE", s.site_language)):
        if (code or name == "SITE_LANGUAGE") and not _LANGUAGE_CODE.match(code):
            raise SettingsError(
                f"{PREFIX}{name}: expected an ISO 639 code such as en, got {code!r}"
            )
    _validate_alerts(s)
    if s.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"{PREFIX}LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR")


def _validate_alerts(s: Settings) -> None:
    """The sign-in and alert settings' shape (the CLI checks the keys themselves)."""
    if s.session_secret and len(s.session_secret) < 32:
        raise SettingsError(f"{PREFIX}SESSION_SECRET: use at least 32 characters")
    if s.smtp_url and s.smtp_url.partition("://")[0].lower() not in (
        "smtp",
        "smtp+starttls",
        "smtps",
    ):
        raise SettingsError(f"{PREFIX}SMTP_URL: expected smtp://, smtp+starttls:// or smtps://")
    if s.smtp_from and ("@" not in s.smtp_from or any(c in s.smtp_from for c in "\r\n")):
        raise SettingsError(f"{PREFIX}SMTP_FROM: expected an email address")
    key = s.vapid_private_key
    if key and (len(key) != 43 or not all(c.isalnum() or c in "-_" for c in key)):
        raise SettingsError(
            f"{PREFIX}VAPID_PRIVATE_KEY: expected 43 base64url characters "
            "(`breakingon alerts vapid-keys` makes a pair)"
        )
    subject = s.vapid_subject
    if subject and not (
        (subject.startswith("mailto:") and "@" in subject) or subject.startswith("https://")
    ):
        raise SettingsError(f"{PREFIX}VAPID_SUBJECT: expected mailto:ADDRESS or an https:// URL")
    if key and not subject:
        raise SettingsError(f"{PREFIX}VAPID_SUBJECT: required with {PREFIX}VAPID_PRIVATE_KEY")
    if s.alert_interval_s <= 0:
        raise SettingsError(f"{PREFIX}ALERT_INTERVAL_S: must be > 0")
