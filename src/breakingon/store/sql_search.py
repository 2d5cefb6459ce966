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
which FTS5 answers without visiting the other matches. PostgreSQL: the GIN indexes on
`tsv` joined with the language lexemes (`PG_ARTICLE_DOC`, `PG_STORY_DOC`), read in id
windows from the newest (16,384 ids, then 8 times wider) so the planner never sorts
every match. Story searches return and count only listed stories
(`sql_base.listed_story`). A `language` keeps the stories with a member in it (the
`languages` list, as `StoryQuery.language`) and the articles in it; it is part of the
index query on both backends, so a rare language costs no more than a common one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from breakingon.records import UNTITLED, Article, Story
from breakingon.store.base import MAX_SEARCH_RESULTS, SEARCH_WINDOW, search_terms
from breakingon.store.search_rank import Candidate, rank
from breakingon.store.sql_base import listed_story
from breakingon.store.sql_stories import _StoriesMixin

# What the GIN indexes of migration 0009 index: `tsv` and one `~CODE` lexeme per
# language (a query term is alphanumeric, so never `~...`). Written as the index is.
PG_ARTICLE_DOC = "(tsv || array_to_tsvector(ARRAY['~' || language]))"
PG_STORY_DOC = (
    "(tsv || array_to_tsvector(string_to_array("
    "'~' || replace(translate(languages, '[] \"', ''), ',', ',~'), ',')))"
)
PG_FIRST_WINDOW = 16_384  # ids; each next window is 8 times wider

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
    "articles": (PG_ARTICLE_DOC, "title, '', extract(epoch from published), 0"),
    "stories": (PG_STORY_DOC, "headline, dek, extract(epoch from last_reported), outlet_count"),
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


def pg_language(language: str) -> str:
    """The tsquery text of the `~CODE` lexeme of `language`."""
    return "'~" + language.replace("\\", "\\\\").replace("'", "''") + "'"


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
        doc = _PG[table][0]
        query = "to_tsquery('simple', %(q)s)"
        if lang:
            query = f"({query} && CAST(%(lang)s AS tsquery))"
        return f"{doc} @@ {query} " + (_LIVE_PG if table == "stories" else "")

    def _pg_rows(
        self, conn: Connection, table: str, terms: list[str], lang: str, n: int, count: bool
    ) -> list[Any]:
        params: dict[str, Any] = {"q": " & ".join(terms), "lang": pg_language(lang), "n": n}
        where = self._pg_where(table, lang)
        if count:
            sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {where} LIMIT %(n)s) m"
            return list(conn.exec_driver_sql(sql, params))
        top = conn.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar()
        if top is None:
            return []
        sql = (
            f"SELECT id, {_PG[table][1]} FROM {table} WHERE {where} "
            "AND id > %(lo)s AND id <= %(hi)s ORDER BY id DESC LIMIT %(n)s"
        )
        out: list[Any] = []
        hi, span = int(top), PG_FIRST_WINDOW
        while hi > 0 and len(out) < n:
            lo = max(0, hi - span)
            params.update(lo=lo, hi=hi, n=n - len(out))
            out += conn.exec_driver_sql(sql, params).all()
            hi, span = lo, span * 8
        return out

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
