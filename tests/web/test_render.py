"""Render helpers: times relative and absolute, country names, search highlighting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.web.render import _age, _found, country_name, highlight, when

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def test_ages_read_as_a_reader_says_them_and_old_ones_become_dates() -> None:
    assert _age(NOW - timedelta(minutes=12), NOW) == "12 min ago"
    assert _age(NOW - timedelta(hours=3), NOW) == "3 hours ago"
    assert _age(NOW - timedelta(days=2), NOW) == "2 days ago"
    # No "latest 15752 h ago": a time a week old or more is its date.
    assert _age(NOW - timedelta(hours=15752), NOW) == "17 May 2024"
    assert _age(NOW - timedelta(days=8), NOW) == "24 Feb"
    assert _age(NOW + timedelta(minutes=2), NOW) == "just now"  # a little clock skew
    assert _age(NOW + timedelta(days=2), NOW) == "6 Mar"  # ahead of the clock: a date
    assert _age(None, NOW) == ""


def test_search_counts_past_the_cap_read_as_a_thousand_plus() -> None:
    # the store counts search matches up to MAX_SEARCH_RESULTS + 1 (store/sql_search.py)
    assert _found(1001, "story", "stories") == "1,000+ stories"
    assert _found(1000, "article") == "1,000 articles"
    assert _found(1, "story", "stories") == "1 story" and _found(0, "article") == "0 articles"


def test_when_gives_the_instant_the_age_and_the_absolute_utc_time() -> None:
    t = NOW - timedelta(hours=3)
    assert str(when(t, NOW)) == (
        '<time datetime="2026-03-04T09:00:00+00:00" title="4 Mar 2026, 09:00 UTC">'
        "3 hours ago</time>"
    )
    assert ">3 hours ago (4 Mar 2026, 09:00 UTC)</time>" in when(t, NOW, full=True)
    old = NOW - timedelta(days=700)
    assert ">3 Apr 2024, 12:00 UTC</time>" in when(old, NOW, full=True)  # no "ago" twice
    assert str(when(None, NOW)) == ""
    # Another zone's time is shown in UTC.
    tokyo = datetime(2026, 3, 4, 18, 0, tzinfo=UTC).astimezone()
    assert 'title="4 Mar 2026, 18:00 UTC"' in when(tokyo, NOW)


def test_country_names_not_codes() -> None:
    assert country_name("JP") == "Japan" and country_name("gb") == "United Kingdom"
    assert country_name("FR") == "France"
    assert country_name("ZZ") == "ZZ" and country_name("") == ""


def test_highlight_marks_whole_words_and_escapes_everything_else() -> None:
    out = highlight('Floods & <b>"flood"</b> in Flooded town', ["flood", "town"])
    assert str(out) == (
        "Floods &amp; &lt;b&gt;&#34;<mark>flood</mark>&#34;&lt;/b&gt; in Flooded <mark>town</mark>"
    )
    assert str(highlight("<script>x</script>", [])) == "&lt;script&gt;x&lt;/script&gt;"
    # Terms are text, never patterns or markup.
    assert str(highlight("a.b a+b", [".", "a+b"])) == "a.b <mark>a+b</mark>"
    assert str(highlight("x <mark>", ["mark"])) == "x &lt;<mark>mark</mark>&gt;"
