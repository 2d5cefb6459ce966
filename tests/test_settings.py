"""Settings load once from the environment and an optional TOML file; errors name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from breakingon.settings import Settings, SettingsError, load_settings


def test_defaults_and_env() -> None:
    s = load_settings({})
    assert s.site_name == "BreakingOn"
    assert s.effective_database_url.startswith("sqlite:///")
    s = load_settings(
        {
            "BREAKINGON_SITE_NAME": "Daily Wire",
            "BREAKINGON_PORT": "9000",
            "BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/8, ::1/128",
        }
    )
    assert s.site_name == "Daily Wire" and s.port == 9000
    assert [str(n) for n in s.fetch_allow_networks] == ["127.0.0.0/8", "::1/128"]


def test_toml_file_and_env_wins(tmp_path: Path) -> None:
    cfg = tmp_path / "b.toml"
    cfg.write_text('site_name = "From File"\nport = 8081\nsite_about = "About us"\n')
    s = load_settings({"BREAKINGON_CONFIG": str(cfg), "BREAKINGON_PORT": "8082"})
    assert (s.site_name, s.port, s.site_about) == ("From File", 8082, "About us")


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"BREAKINGON_PORT": "eighty"}, "BREAKINGON_PORT"),
        ({"BREAKINGON_PORT": "0"}, "BREAKINGON_PORT"),
        ({"BREAKINGON_DATABASE_URL": "mysql://x"}, "BREAKINGON_DATABASE_URL"),
        ({"BREAKINGON_FETCH_ALLOW_NETWORKS": "10.0.0.0/33"}, "BREAKINGON_FETCH_ALLOW_NETWORKS"),
        ({"BREAKINGON_LOG_JSON": "perhaps"}, "BREAKINGON_LOG_JSON"),
        ({"BREAKINGON_SITE_NAMME": "typo"}, "BREAKINGON_SITE_NAMME"),
        ({"BREAKINGON_ADMIN_TOKEN": "short"}, "BREAKINGON_ADMIN_TOKEN"),
        ({"BREAKINGON_EMBED_PRECISION": "float16"}, "BREAKINGON_EMBED_PRECISION"),
        ({"BREAKINGON_CONFIG": "/nonexistent/x.toml"}, "BREAKINGON_CONFIG"),
    ],
)
def test_errors_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(env)


def test_bad_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "b.toml"
    cfg.write_text("site_name = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"BREAKINGON_CONFIG": str(cfg)})


def test_from_environment_reads_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one reader of os.environ: the CLI's settings come through it."""
    from breakingon.settings import from_environment

    monkeypatch.setenv("BREAKINGON_SITE_NAME", "Env Desk")
    monkeypatch.setenv("BREAKINGON_FETCH_ALLOW_NETWORKS", "127.0.0.0/8")
    s = from_environment()
    assert s.site_name == "Env Desk"
    assert [str(n) for n in s.fetch_allow_networks] == ["127.0.0.0/8"]
    monkeypatch.setenv("BREAKINGON_PORT", "eighty")
    with pytest.raises(SettingsError, match="BREAKINGON_PORT"):
        from_environment()


def test_embed_precisions_are_the_encoders() -> None:
    """Settings validate the embedder's modes without importing the clustering stage."""
    from breakingon.cluster.embed import PRECISIONS
    from breakingon.settings import EMBED_PRECISIONS

    assert EMBED_PRECISIONS == PRECISIONS


def test_every_setting_is_documented() -> None:
    """docs/configuration.md names every BREAKINGON_ variable Settings reads."""
    from dataclasses import fields as settings_fields

    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    missing = [
        f"BREAKINGON_{f.name.upper()}"
        for f in settings_fields(Settings)
        if f"`BREAKINGON_{f.name.upper()}`" not in doc
    ]
    assert not missing, f"document in docs/configuration.md: {missing}"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"BREAKINGON_SMTP_URL": "http://mail.example"}, "BREAKINGON_SMTP_URL"),
        ({"BREAKINGON_SESSION_SECRET": "short"}, "BREAKINGON_SESSION_SECRET"),
        ({"BREAKINGON_VAPID_PRIVATE_KEY": "x" * 43}, "BREAKINGON_VAPID_SUBJECT"),
        ({"BREAKINGON_VAPID_PRIVATE_KEY": "not a key"}, "BREAKINGON_VAPID_PRIVATE_KEY"),
        (
            {"BREAKINGON_VAPID_PRIVATE_KEY": "x" * 43, "BREAKINGON_VAPID_SUBJECT": "ops"},
            "BREAKINGON_VAPID_SUBJECT",
        ),
        ({"BREAKINGON_SMTP_FROM": "nobody"}, "BREAKINGON_SMTP_FROM"),
        ({"BREAKINGON_ALERT_INTERVAL_S": "0"}, "BREAKINGON_ALERT_INTERVAL_S"),
    ],
)
def test_alert_settings_are_checked(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(env)
