"""`SQLStore` full-text search: stories and articles, one page at a time, and how many
match in all (for "N stories" and page links).

SQLite answers from the FTS5 tables (`stories_fts`, `articles_fts`, ranked by bm25);
PostgreSQL from the generated `tsv` columns (`ts_rank`). A query is cut into at most 12
alphanumeric terms (`base.search_terms`) that must all match; none matches nothing. Story searches
count and return only listed stories (`sql_base.listed_story`), the ones the lists
show, so the count and the pages always agree. A `language` keeps the stories with a
member in it (the `languages` list, as `StoryQuery.language`) and the articles in it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from breakingon.records import UNTITLED, Article, Story
from breakingon.store.base import search_terms
from breakingon.store.sql_base import listed_story
from breakingon.store.sql_stories import _StoriesMixin

# The extra condition a story match must meet: `sql_base.listed_story`, written as SQL.
_LIVE_PG = (
    "AND merged_into IS NULL AND article_count > 0 AND outlet_count >= 1 "
    f"AND headline <> '{UNTITLED}'"
)
_LIVE_SQLITE = _LIVE_PG.replace("AND ", "AND s.")


class _SearchMixin(_StoriesMixin):
    """Full-text search of stories and articles, with counts."""

    def _sqlite_match(self, table: str, count: bool, language: bool = False) -> str:
        alias = "s" if table == "stories" else "a"
        live = _LIVE_SQLITE if table == "stories" else ""
        if language:
            live += " AND s.languages LIKE ?" if table == "stories" else " AND a.language = ?"
        what = "count(*)" if count else f"{table}_fts.rowid"
        tail = (
            "" if count else f" ORDER BY {table}_fts.rank, {table}_fts.rowid DESC LIMIT ? OFFSET ?"
        )
        return (
            f"SELECT {what} FROM {table}_fts JOIN {table} {alias} ON {alias}.id = "
            f"{table}_fts.rowid WHERE {table}_fts MATCH ? {live}{tail}"
        )

    def _pg_match(self, table: str, count: bool, language: bool = False) -> str:
        live = _LIVE_PG if table == "stories" else ""
        if language:
            live += (
                " AND languages LIKE %(lang)s" if table == "stories" else " AND language = %(lang)s"
            )
        what = "count(*)" if count else "id"
        tail = (
            ""
            if count
            else " ORDER BY ts_rank(tsv, to_tsquery('simple', %(q)s)) DESC, id DESC "
            "LIMIT %(l)s OFFSET %(o)s"
        )
        return f"SELECT {what} FROM {table} WHERE tsv @@ to_tsquery('simple', %(q)s) {live}{tail}"

    def _match(
        self,
        table: str,
        query: str,
        limit: int,
        offset: int,
        count: bool,
        language: str | None = None,
    ) -> list[int]:
        terms = search_terms(query)
        if not terms:
            return [0] if count else []
        # the codes stored in `stories.languages` are JSON strings: '["de","en"]'
        lang = (f'%"{language}"%' if table == "stories" else language) if language else None
        with self._read() as conn:
            rows: Any
            if self.dialect == "sqlite":
                expr = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
                params: tuple[Any, ...] = (expr,) + ((lang,) if lang else ())
                params += () if count else (limit, offset)
                rows = conn.exec_driver_sql(self._sqlite_match(table, count, bool(lang)), params)
            else:
                rows = conn.exec_driver_sql(
                    self._pg_match(table, count, bool(lang)),
                    {"q": " & ".join(terms), "l": limit, "o": offset, "lang": lang},
                )
            return [int(r[0]) for r in rows]

    def search_stories(
        self, query: str, limit: int, offset: int = 0, language: str | None = None
    ) -> list[Story]:
        st = self.t["stories"]
        ids = self._match("stories", query, limit, offset, count=False, language=language)
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
        return self._match("stories", query, 0, 0, count=True, language=language)[0]

    def search_articles(
        self, query: str, limit: int, offset: int = 0, language: str | None = None
    ) -> list[Article]:
        a = self.t["articles"]
        ids = self._match("articles", query, limit, offset, count=False, language=language)
        if not ids:
            return []
        with self._read() as conn:
            rows = {r.id: r for r in conn.execute(self._article_select().where(a.c.id.in_(ids)))}
        return [self._article(rows[i]) for i in ids if i in rows]

    def count_search_articles(self, query: str, language: str | None = None) -> int:
        return self._match("articles", query, 0, 0, count=True, language=language)[0]
