"""Synthetic newsroom streams for the crawl-path integration tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.sim.stream import StreamArticle

T0 = datetime(2025, 2, 10, 0, 0, tzinfo=UTC)
_WORDS = (
    "harbour council budget storm election court bridge vaccine league festival rail "
    "drought summit tariff museum satellite protest reactor glacier orchestra"
).split()


def body_text(n: int, sentences: int = 14) -> str:
    """A distinct, article-like text (long enough for extraction to keep it)."""
    words = [_WORDS[(n * 7 + i * 3) % len(_WORDS)] for i in range(sentences)]
    return " ".join(
        f"Officials said on day {n} that the {w} plan number {n * 100 + i} would go "
        f"ahead after weeks of debate among residents and experts."
        for i, w in enumerate(words)
    )


def make_stream(outlets: int, per_outlet: int, prefix: str = "o") -> list[StreamArticle]:
    """`outlets` outlets with `per_outlet` distinct articles each, an hour apart."""
    rows = []
    for o in range(outlets):
        for k in range(per_outlet):
            n = o * per_outlet + k
            rows.append(
                StreamArticle(
                    id=f"{prefix}{o}-{k}",
                    outlet=f"Outlet {prefix}{o}",
                    domain=f"{prefix}{o}.example",
                    published=T0 + timedelta(minutes=10 * n),
                    title=f"Report {n}: the {_WORDS[n % len(_WORDS)]} question",
                    text=body_text(n),
                    country="United Kingdom",
                    section="top",
                )
            )
    return rows


def after(rows: list[StreamArticle]) -> datetime:
    """A simulated time at which every row is published."""
    last: datetime = max(r.published for r in rows)
    return last + timedelta(seconds=1)
