"""`breakingon.store.schema` against what the migrations really create, on SQLite and
PostgreSQL: every described table and column exists with a compatible type and the same
nullability, and no migrated table or column is left undescribed."""

from __future__ import annotations

import sqlalchemy as sa

from breakingon.store import SQLStore, open_store, schema
from breakingon.store.sql import head_revision


def _kind(t: sa.types.TypeEngine[object]) -> str:
    """The storage class of a column type, as far as the store's code cares."""
    if isinstance(t, sa.LargeBinary):
        return "binary"
    if isinstance(t, sa.DateTime):
        return "datetime"
    if isinstance(t, sa.Float):
        return "float"
    if isinstance(t, sa.BigInteger):
        return "bigint"
    if isinstance(t, sa.Integer):
        return "integer"
    if isinstance(t, sa.String):
        return "text"
    return type(t).__name__


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _not_yet_migrated() -> set[tuple[str, str]]:
    """Columns schema.py describes whose migration is missing (none: see below)."""
    assert head_revision() == schema.LATEST, "a new migration needs its tables in schema.py"
    return set()


def _is_search_table(name: str) -> bool:
    # FTS5 tables and their shadow tables (articles_fts_data, articles_fts_idx, ...)
    return any(name == t or name.startswith(t + "_") for t in schema.SEARCH_TABLES)


def test_schema_matches_the_migrated_database(store_url: str) -> None:
    open_store(store_url).close()  # a fresh database, migrated to head
    engine = _engine(store_url)
    try:
        insp = sa.inspect(engine)
        dialect = engine.dialect.name
        db_tables = {
            n for n in insp.get_table_names() if n != "alembic_version" and not _is_search_table(n)
        }
        described = set(schema.metadata.tables)
        assert db_tables == described, (
            f"migrated but not in schema.py: {sorted(db_tables - described)}; "
            f"in schema.py but not migrated: {sorted(described - db_tables)}"
        )
        skipped = _not_yet_migrated()
        for name, table in schema.metadata.tables.items():
            db_cols = {c["name"]: c for c in insp.get_columns(name)}
            for search_table, column in schema.SEARCH_COLUMNS:
                if search_table == name and dialect == "postgresql":
                    assert column in db_cols  # the generated full-text column
                    del db_cols[column]
            for col in table.c:
                if (name, col.name) in skipped:
                    assert col.name not in db_cols
                    continue
                assert col.name in db_cols, f"{name}.{col.name} is not in the database"
                db = db_cols.pop(col.name)
                where = f"{name}.{col.name} ({dialect})"
                assert _kind(db["type"]) == _kind(col.type), (
                    f"{where}: database type {db['type']!r}, schema.py type {col.type!r}"
                )
                if dialect == "postgresql" and isinstance(col.type, sa.DateTime):
                    assert db["type"].timezone == col.type.timezone, where
                assert bool(db["nullable"]) == col.nullable, f"{where}: nullability differs"
                if col.server_default is not None:
                    assert db.get("default") is not None, f"{where}: no server default"
            assert not db_cols, f"{name}: columns not in schema.py: {sorted(db_cols)}"
            assert set(insp.get_pk_constraint(name)["constrained_columns"]) == {
                c.name for c in table.primary_key
            }, f"{name}: primary key differs"
            db_indexes = {ix["name"] for ix in insp.get_indexes(name)}
            for ix in table.indexes:
                assert ix.name in db_indexes, f"index {ix.name} is not in the database"
    finally:
        engine.dispose()


def test_store_queries_the_described_tables(store_url: str) -> None:
    s = SQLStore(store_url)
    try:
        assert s.t is schema.metadata.tables
        assert set(s.t) == set(schema.metadata.tables)
    finally:
        s.close()
