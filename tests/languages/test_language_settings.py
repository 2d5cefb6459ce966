"""BREAKINGON_BRIEF_LANGUAGE and BREAKINGON_SITE_LANGUAGE: read, checked and passed on."""

from __future__ import annotations

import pytest

from breakingon.pipeline.story_stage import story_settings
from breakingon.settings import SettingsError, load_settings


def test_the_language_settings_are_read_and_checked() -> None:
    plain = load_settings({})
    assert (plain.brief_language, plain.site_language) == ("", "en")
    s = load_settings({"BREAKINGON_BRIEF_LANGUAGE": " EN ", "BREAKINGON_SITE_LANGUAGE": "de"})
    assert (s.brief_language, s.site_language) == ("en", "de")
    assert story_settings(s).brief_language == "en"
    assert story_settings(plain).brief_language == ""
    for name, value in (
        ("BREAKINGON_BRIEF_LANGUAGE", "english"),
        ("BREAKINGON_BRIEF_LANGUAGE", "e1"),
        ("BREAKINGON_SITE_LANGUAGE", ""),
        ("BREAKINGON_SITE_LANGUAGE", "en-GB"),
    ):
        with pytest.raises(SettingsError, match=name):
            load_settings({name: value})
