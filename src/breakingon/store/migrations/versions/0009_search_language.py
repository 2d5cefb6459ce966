"""Search filtered by language inside the full-text index (docs/web.md, "Search").

A search with `language` was answered by joining every match of its terms to its row
and testing the language there, so a common word searched in a rare language read
every match. The index now holds the language too:

- SQLite: `articles_fts` indexes `language` as a third column and `stories_fts`
  `languages` (the JSON list tokenises to its codes); searches name their columns
  (`{title text} : (...) AND language : "de"`). Both tables are made again and rebuilt
  from their content tables (minutes at a million articles).
- PostgreSQL: three-column GIN indexes: the id's buckets of 2,048 and of 65,536 ids,
  the `tsv` words, and the languages as a text array (`ARRAY[language]`; a story's
  `languages` list as `string_to_array`), so one index scan intersects a window of the
  newest ids, words and language (`sql_search.PG_BUCKETS`, `pg_windows`). The buckets
  come first: GIN checks a row's keys in column order, so the window's few items lead
  and the long lists of common words and languages are skipped through, never walked.
  `ix_articles_search` and `ix_stories_search` replace `ix_articles_tsv` and
  `ix_stories_tsv` (a query on `tsv` alone uses them too).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"

# As in sql_search (a migration never imports the code it migrates for).
_ARTICLE_LANGS = "(ARRAY[language])"
_STORY_LANGS = "(string_to_array(translate(languages, '[] \"', ''), ','))"
_BUCKETS = "(ARRAY[id / 2048, 16777216 + id / 65536])"


def _fts(table: str, cols: str) -> None:
    """(Re)make `{table}_fts` over `cols` of `table`, its three triggers, and fill it."""
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {table}_fts")
    op.execute(
        f"CREATE VIRTUAL TABLE {table}_fts USING fts5({cols}, content='{table}', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    new = ", ".join(f"new.{c.strip()}" for c in cols.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in cols.split(","))
    op.execute(
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {table}_fts(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {table}_fts({table}_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {table}_fts({table}_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {table}_fts(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    op.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _fts("articles", "title, text, language")
        _fts("stories", "headline, dek, languages")
    else:
        op.execute("DROP INDEX IF EXISTS ix_articles_tsv")
        op.execute("DROP INDEX IF EXISTS ix_stories_tsv")
        for table, langs in (("articles", _ARTICLE_LANGS), ("stories", _STORY_LANGS)):
            op.execute(
                f"CREATE INDEX ix_{table}_search ON {table} USING gin({_BUCKETS}, tsv, {langs})"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _fts("articles", "title, text")
        _fts("stories", "headline, dek")
    else:
        op.execute("DROP INDEX IF EXISTS ix_stories_search")
        op.execute("DROP INDEX IF EXISTS ix_articles_search")
        op.execute("CREATE INDEX ix_articles_tsv ON articles USING gin(tsv)")
        op.execute("CREATE INDEX ix_stories_tsv ON stories USING gin(tsv)")
