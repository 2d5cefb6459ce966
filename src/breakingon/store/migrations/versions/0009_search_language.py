"""Search filtered by language inside the full-text index (docs/web.md, "Search").

A search with `language` was answered by joining every match of its terms to its row
and testing the language there, so a common word searched in a rare language read
every match. The index now holds the language too:

- SQLite: `articles_fts` indexes `language` as a third column and `stories_fts`
  `languages` (the JSON list tokenises to its codes); searches name their columns
  (`{title text} : (...) AND language : "de"`). Both tables are made again and rebuilt
  from their content tables (minutes at a million articles).
- PostgreSQL: GIN indexes on the `tsv` column joined with one `~CODE` lexeme per
  language (`sql_search.PG_ARTICLE_DOC`, `PG_STORY_DOC`; no search term holds `~`).
  `ix_articles_search` replaces `ix_articles_tsv`; `ix_stories_search` is added beside
  `ix_stories_tsv` (the reader streams' search condition uses that one).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"

# As in sql_search (a migration never imports the code it migrates for).
_ARTICLE_DOC = "(tsv || array_to_tsvector(ARRAY['~' || language]))"
_STORY_DOC = (
    "(tsv || array_to_tsvector(string_to_array("
    "'~' || replace(translate(languages, '[] \"', ''), ',', ',~'), ',')))"
)


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
        op.execute(f"CREATE INDEX ix_articles_search ON articles USING gin({_ARTICLE_DOC})")
        op.execute(f"CREATE INDEX ix_stories_search ON stories USING gin({_STORY_DOC})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _fts("articles", "title, text")
        _fts("stories", "headline, dek")
    else:
        op.execute("DROP INDEX IF EXISTS ix_stories_search")
        op.execute("DROP INDEX IF EXISTS ix_articles_search")
        op.execute("CREATE INDEX ix_articles_tsv ON articles USING gin(tsv)")
