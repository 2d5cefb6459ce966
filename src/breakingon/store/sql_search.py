"""`SQLStore` full-text search of stories and articles: one page at a time from a bounded
candidate set, and a capped count (for "N stories" and page links).

A query is cut into at most 12 alphanumeric terms (`base.search_terms`) that must all
match (title or text; a story's headline or dek); none matches nothing. Its results are
at most `MAX_SEARCH_RESULTS`: the newest matches by id (articles first seen, stories
first reported), in windows of `SEARCH_WINDOW`, each window ranked by relevance and
recency (`search_rank`). A page fetches only the windows it shows, so its cost follows
the page's depth, never the number of matches. The counts stop at
`MAX_SEARCH_RESULTS + 1` (shown as "1,000+"), so count and pages agree.

SQLite: the FTS5 tables (`articles_fts` over title, text and language; `stories_fts`
over headline, dek and languages, migration 0009), read newest rowid first with a LIMIT,
which FTS5 answers without visiting the other matches. PostgreSQL: GIN indexes over
`tsv`, the languages and the id's buckets (of 2,048 and of 65,536 ids: `PG_BUCKETS`),
read in windows of buckets from the newest (`pg_windows`: 4,096 ids, then to the next
65,536 boundary, then 1, 2, 4 ... 64 coarse buckets), so one index scan intersects words,
language and window and never sorts or reads every match.

Story searches return and count only listed stories (`sql_base.listed_story`). A
`language` keeps the stories with a member in it (the `languages` list, as
`StoryQuery.language`) and the articles in it; it is part of the index query on both
backends, so a rare language costs no more than a common one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from breakingon.records import UNTITLED, Article, Story
from breakingon.store.base import MAX_SEARCH_RESULTS, SEARCH_WINDOW, search_terms
from breakingon.store.search_rank import Candidate, rank
from breakingon.store.sql_base import listed_story
from breakingon.store.sql_stories import _StoriesMixin

# The GIN indexes of migration 0009, written as the index is: the id's buckets (of
# PG_FINE ids, and, offset by PG_COARSE, of PG_FINE * PG_PER_COARSE ids), `tsv`, and the
# languages as a text array. A window of the newest ids, words and language are one
# index scan: GIN takes the keys in column order, so the window's few items lead and the
# long lists of common words and languages are skipped through; a window never reads
# the matches outside it nor names more than 64 buckets.
PG_ARTICLE_LANGS = "(ARRAY[language])"
PG_STORY_LANGS = "(string_to_array(translate(languages, '[] \"', ''), ','))"
PG_FINE = 2048
PG_PER_COARSE = 32
PG_COARSE = 1 << 24
PG_BUCKETS = "(ARRAY[id / 2048, 16777216 + id / 65536])"


def pg_windows(top: int) -> Iterator[list[int]]:
    """The bucket values of the windows that cover ids `top` down to 0, newest first,
    each once: the two newest fine buckets, the fine ones down to their coarse bucket's
    start, then 1, 2, 4 ... 64, 64 coarse buckets (a window's index scan finds all its
    matches before the LIMIT can stop it, so the windows grow slowly)."""
    h = top // PG_FINE
    yield [b for b in (h, h - 1) if b >= 0]
    nxt = h - 2
    if nxt < 0:
        return
    c = nxt // PG_PER_COARSE
    yield list(range(nxt, c * PG_PER_COARSE - 1, -1))
    c, size = c - 1, 1
    while c >= 0:
        lo = max(0, c - size + 1)
        yield [PG_COARSE + x for x in range(c, lo - 1, -1)]
        c, size = lo - 1, min(size * 2, 64)


# The extra condition a story match must meet: `sql_base.listed_story`, written as SQL.
_LIVE_PG = (
    "AND merged_into IS NULL AND article_count > 0 AND outlet_count >= 1 "
    f"AND headline <> '{UNTITLED}'"
)
_LIVE_SQLITE = _LIVE_PG.replace("AND ", "AND s.")

# Per table: the FTS5 columns terms are looked for in, the language column, and what a
# candidate row holds (id, title, dek, time in epoch seconds, outlets).
_SQLITE = {
    "articles": (
        "{title text}",
        "language",
        "a.title, '', (julianday(a.published) - 2440587.5) * 86400.0, 0",
    ),
    "stories": (
        "{headline dek}",
        "languages",
        "s.headline, s.dek, (julianday(s.last_reported) - 2440587.5) * 86400.0, s.outlet_count",
    ),
}
_PG = {
    "articles": (PG_ARTICLE_LANGS, "title, '', extract(epoch from published), 0"),
    "stories": (PG_STORY_LANGS, "headline, dek, extract(epoch from last_reported), outlet_count"),
}


def fts_phrase(text: str) -> str:
    """`text` as one FTS5 string (never read as query syntax)."""
    return '"' + text.replace('"', '""') + '"'


def fts_query(terms: list[str], columns: str, lang_column: str = "", language: str = "") -> str:
    """The FTS5 MATCH expression: every term in `columns`, and `language` in
    `lang_column` when given."""
    expr = f"{columns} : (" + " ".join(fts_phrase(t) for t in terms) + ")"
    if language:
        expr += f" AND {lang_column} : {fts_phrase(language)}"
    return expr


class _SearchMixin(_StoriesMixin):
    """Full-text search of stories and articles, with capped counts."""

    # -- SQLite ------------------------------------------------------------------------
    def _sqlite_rows(
        self, conn: Connection, table: str, terms: list[str], lang: str, n: int, count: bool
    ) -> list[Any]:
        columns, lang_column, fields = _SQLITE[table]
        expr = fts_query(terms, columns, lang_column, lang)
        fts = f"{table}_fts"
        if table == "stories":
            join, live = f"JOIN stories s ON s.id = {fts}.rowid", _LIVE_SQLITE
        else:
            join, live = ("", "") if count else (f"JOIN articles a ON a.id = {fts}.rowid", "")
        what = "1" if count else f"{fts}.rowid, {fields}"
        sql = (
            f"SELECT {what} FROM {fts} {join} WHERE {fts} MATCH ? {live} "
            f"ORDER BY {fts}.rowid DESC LIMIT ?"
        )
        if count:
            sql = f"SELECT count(*) FROM ({sql})"
        return list(conn.exec_driver_sql(sql, (expr, n)))

    # -- PostgreSQL --------------------------------------------------------------------
    def _pg_where(self, table: str, lang: str) -> str:
        where = "tsv @@ to_tsquery('simple', %(q)s) "
        if lang:
            where += f"AND {_PG[table][0]} @> ARRAY[CAST(%(lang)s AS text)] "
        if table == "stories":
            where += _LIVE_PG + " "
        buckets = (  # PG_BUCKETS (a test may use smaller buckets)
            f"(ARRAY[id / {PG_FINE}, {PG_COARSE} + id / {PG_FINE * PG_PER_COARSE}])"
        )
        return where + f"AND {buckets} && CAST(%(b{{}})s AS integer[])"

    def _pg_rows(
        self, conn: Connection, table: str, terms: list[str], lang: str, n: int, count: bool
    ) -> list[Any]:
        # Only the GIN index answers: a backward scan of the primary key testing each
        # row's tsv (the planner's choice for common words) reads far past sparse ones.
        top = conn.exec_driver_sql(
            "SELECT set_config('enable_indexscan', 'off', true), "
            f"set_config('enable_seqscan', 'off', true), (SELECT max(id) FROM {table})"
        ).one()[2]
        if top is None:
            return [(0,)] if count else []
        # One statement, the windows newest first under one LIMIT: PostgreSQL's Append
        # runs a window only while the ones before it gave fewer than `n` rows.
        where = self._pg_where(table, lang)
        what = "1" if count else f"id, {_PG[table][1]}"
        params: dict[str, Any] = {"q": " & ".join(terms), "lang": lang, "n": n}
        parts = []
        for i, buckets in enumerate(pg_windows(int(top))):
            params[f"b{i}"] = buckets
            parts.append(
                f"(SELECT {what} FROM {table} WHERE {where.format(i)} "
                + ("LIMIT %(n)s)" if count else "ORDER BY id DESC LIMIT %(n)s)")
            )
        sql = f"SELECT * FROM ({' UNION ALL '.join(parts)}) w LIMIT %(n)s"
        if count:
            sql = f"SELECT count(*) FROM ({sql}) m"
        return list(conn.exec_driver_sql(sql, params))

    # -- both --------------------------------------------------------------------------
    def _found(
        self, table: str, query: str, limit: int, offset: int, language: str | None
    ) -> list[int]:
        """The ids of results `offset` to `offset + limit`, in result order."""
        terms = search_terms(query)
        end = min(offset + limit, MAX_SEARCH_RESULTS)
        if not terms or limit <= 0 or offset >= end:
            return []
        windows = -(-end // SEARCH_WINDOW)
        fetch = self._sqlite_rows if self.dialect == "sqlite" else self._pg_rows
        with self._read() as conn:
            rows = fetch(conn, table, terms, language or "", windows * SEARCH_WINDOW, False)
        cands = [
            Candidate(int(r[0]), r[1] or "", r[2] or "", float(r[3] or 0.0), int(r[4] or 0))
            for r in rows
        ]
        return rank(terms, cands, SEARCH_WINDOW)[offset:end]

    def _count(self, table: str, query: str, language: str | None) -> int:
        terms = search_terms(query)
        if not terms:
            return 0
        fetch = self._sqlite_rows if self.dialect == "sqlite" else self._pg_rows
        with self._read() as conn:
            rows = fetch(conn, table, terms, language or "", MAX_SEARCH_RESULTS + 1, True)
        return int(rows[0][0])

    def search_stories(
        self, query: str, limit: int, offset: int = 0, language: str | None = None
    ) -> list[Story]:
        st = self.t["stories"]
        ids = self._found("stories", query, limit, offset, language)
        if not ids:
            return []
        with self._read() as conn:
            rows = {
                r.id: r
                for r in conn.execute(
                    sa.select(*self._story_cols()).where(st.c.id.in_(ids), listed_story(st))
                )
            }
        return [self._story(rows[i]) for i in ids if i in rows]

    def count_search_stories(self, query: str, language: str | None = None) -> int:
        return self._count("stories", query, language)

    def search_articles(
        self, query: str, limit: int, offset: int = 0, language: str | None = None
    ) -> list[Article]:
        a = self.t["articles"]
        ids = self._found("articles", query, limit, offset, language)
        if not ids:
            return []
        with self._read() as conn:
            rows = {r.id: r for r in conn.execute(self._article_select().where(a.c.id.in_(ids)))}
        return [self._article(rows[i]) for i in ids if i in rows]

    def count_search_articles(self, query: str, language: str | None = None) -> int:
        return self._count("articles", query, language)
