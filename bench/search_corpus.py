"""bench/search's corpus and fill: realistic article texts built in memory from the real
articles of ../shared/data, bulk-inserted into a fresh store (SQLite or PostgreSQL)
through the store's own SQLAlchemy engine and tables.

Texts: the sentences of the real articles (English: clustering/*.jsonl and
summarization/multinews-dev.jsonl; cs de es fr hu: multilingual/wmt-dev.jsonl), each
language's pool grown to many variants by replacing about one word in six with a word
drawn from that language's vocabulary under a Zipf law (rank r with weight 1/r), so
common words are in most articles and the tail words in a few dozen of a million. An
article is a title (the head of one variant) and 4-14 variants; 80% are English. Ids
follow publication time over two years (ids and times agree, as in a live crawl, with a
few hours of jitter); about 3.3 articles a story, the story headed by its first article.
Nothing read from ../shared/data is written anywhere but the bench's own database.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LANGS = {"en": 0.80, "de": 0.06, "fr": 0.05, "es": 0.05, "cs": 0.03, "hu": 0.01}
END = datetime(2026, 12, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
_SPLIT = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")


def _texts() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {lang: [] for lang in LANGS}
    for name in ("ecbplus-dev", "multinews-dev", "newswcl50"):
        for line in (DATA / "clustering" / f"{name}.jsonl").open(encoding="utf-8"):
            row = json.loads(line)
            out["en"].append(row.get("text") or "")
    for line in (DATA / "summarization" / "multinews-dev.jsonl").open(encoding="utf-8"):
        for doc in json.loads(line).get("documents", []):
            out["en"].append(doc.get("text") or "")
    for line in (DATA / "multilingual" / "wmt-dev.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if row.get("lang") in out:
            out[row["lang"]].append(row.get("text") or "")
    return out


class Corpus:
    """Per language: a pool of sentence variants (lists of words) and the vocabulary
    ranked by frequency."""

    def __init__(self, seed: int = 7, variants: int = 120_000) -> None:
        rng = np.random.default_rng(seed)
        self.pool: dict[str, list[str]] = {}
        self.vocab: dict[str, list[str]] = {}
        for lang, texts in _texts().items():
            sents = []
            for text in texts:
                for s in _SPLIT.split(" ".join(text.split())):
                    words = s.split()
                    if 5 <= len(words) <= 40:
                        sents.append(words)
            counts = Counter(w.lower() for s in sents for w in s for w in _WORD.findall(w))
            vocab = [w for w, _ in counts.most_common()]
            self.vocab[lang] = vocab
            weights = 1.0 / np.arange(1, len(vocab) + 1)
            weights /= weights.sum()
            n = max(2_000, int(variants * LANGS[lang] / 0.8))
            picks = rng.integers(0, len(sents), n)
            total = sum(len(sents[i]) for i in picks)
            swaps = iter(rng.random(total) < 0.16)
            draws = iter(rng.choice(len(vocab), size=total // 5 + 16, p=weights))
            pool = []
            for i in picks:
                out = []
                for w in sents[i]:
                    out.append(vocab[next(draws)] if next(swaps) else w)
                pool.append(" ".join(out))
            self.pool[lang] = pool

    def df_sample(self, lang: str, words: list[str]) -> dict[str, float]:
        """The share of pool variants holding each word (a proxy for its article share)."""
        pool = self.pool[lang][:20_000]
        sets = [set(_WORD.findall(s.lower())) for s in pool]
        return {w: sum(w in s for s in sets) / len(sets) for w in words}


def rows(
    corpus: Corpus, n_articles: int, n_stories: int, seed: int = 11
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Batches of (stories, articles) as row dicts for the store's tables; each batch's
    stories are whole (every member in the same batch)."""
    rnd = random.Random(seed)
    langs, cum = list(LANGS), list(np.cumsum(list(LANGS.values())))
    start = END - SPAN
    step = SPAN / n_articles
    per = n_articles / n_stories
    batch = 20_000
    sid = 0
    i = 0
    while i < n_articles:
        stories: list[dict[str, Any]] = []
        articles: list[dict[str, Any]] = []
        while len(articles) < batch and i < n_articles:
            sid += 1
            size = min(n_articles - i, max(1, round(rnd.expovariate(1.0 / per))))
            lang = langs[next(k for k, c in enumerate(cum) if rnd.random() <= c or k == 5)]
            pool = corpus.pool[lang]
            members = []
            for _ in range(size):
                i += 1
                when = start + step * i + timedelta(minutes=rnd.randint(-360, 360))
                head = pool[rnd.randrange(len(pool))].split()
                title = " ".join(head[: rnd.randint(6, 14)]).rstrip(".,;:")
                body = " ".join(pool[rnd.randrange(len(pool))] for _ in range(rnd.randint(4, 14)))
                members.append((i, when, title, body))
                articles.append(
                    {
                        "id": i,
                        "feed_id": 1 + i % 50,
                        "source_id": 1 + i % 50,
                        "item_key": f"k{i}",
                        "url": f"https://bench.example/{i}",
                        "title": title,
                        "text": body,
                        "published": when,
                        "first_seen": when,
                        "language": lang,
                        "state": "clustered",
                        "story_id": sid,
                        "updated_at": when,
                    }
                )
            first = members[0]
            times = [m[1] for m in members]
            outlets = sorted({f"Outlet {1 + m[0] % 50}" for m in members})
            stories.append(
                {
                    "id": sid,
                    "headline": first[2],
                    "dek": first[3].split(". ")[0][:300],
                    "first_reported": min(times),
                    "last_reported": max(times),
                    "article_count": size,
                    "outlet_count": len(outlets),
                    "representative_article_id": first[0],
                    "outlets": json.dumps(outlets),
                    "languages": json.dumps([lang]),
                    "sections": '["world"]',
                    "score": size,
                    "dirty": 0,
                    "updated_at": max(times),
                }
            )
        yield stories, articles


def _sources(now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    src = [{"id": k, "name": f"Outlet {k}", "created_at": now} for k in range(1, 51)]
    feeds = [
        {
            "id": k,
            "source_id": k,
            "url": f"https://o{k}.example/rss",
            "url_key": f"o{k}.example/rss",
            "created_at": now,
        }
        for k in range(1, 51)
    ]
    return src, feeds


def fill_sqlite(store: Any, corpus: Corpus, n_articles: int, n_stories: int) -> float:
    t, engine = store.t, store._w
    start = time.perf_counter()
    src, feeds = _sources(END)
    with engine.begin() as conn:
        conn.execute(t["sources"].insert(), src)
        conn.execute(t["feeds"].insert(), feeds)
    for stories, articles in rows(corpus, n_articles, n_stories):
        with engine.begin() as conn:
            conn.execute(t["stories"].insert(), stories)
            conn.execute(t["articles"].insert(), articles)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
        conn.exec_driver_sql("INSERT INTO stories_fts(stories_fts) VALUES ('optimize')")
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - start


def fill_postgres(store: Any, corpus: Corpus, n_articles: int, n_stories: int) -> float:
    """COPY into the store's tables; the full-text GIN indexes are dropped for the load
    and made again after it, as the migrations made them."""
    t, engine = store.t, store._w
    start = time.perf_counter()
    src, feeds = _sources(END)
    with engine.begin() as conn:
        conn.execute(t["sources"].insert(), src)
        conn.execute(t["feeds"].insert(), feeds)
        gin = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename IN ('articles', 'stories') AND position('USING gin' in indexdef) > 0"
        ).all()
        for name, _ in gin:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    raw = engine.raw_connection()
    try:
        for stories, articles in rows(corpus, n_articles, n_stories):
            with raw.cursor() as cur:
                for table, batch in (("stories", stories), ("articles", articles)):
                    cols = list(batch[0])
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                        for r in batch:
                            cp.write_row([r[c] for c in cols])
            raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for _, definition in gin:
            conn.exec_driver_sql(definition)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM ANALYZE articles")
        conn.exec_driver_sql("VACUUM ANALYZE stories")
    return time.perf_counter() - start
