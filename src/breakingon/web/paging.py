"""Page links for the listings (sections, places, search): which page, how many, and the
links a reader follows (`?page=N`, page 1 without the parameter).

The handler parses `page` (`web.params.parse_page`), asks the store for the total
(`count_stories`, `count_search_*`) and one page (LIMIT/OFFSET), and hands the template a
`Pager`. A page past the last one is a 404 with the number of pages in the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True, slots=True)
class PageLink:
    n: int | None  # None: a gap ("…") between page numbers
    href: str
    current: bool = False


@dataclass(frozen=True, slots=True)
class Pager:
    page: int
    size: int
    total: int
    path: str  # the listing's on-site path, e.g. "/section/world"
    query: tuple[tuple[str, str], ...] = ()  # other parameters the links keep (q=...)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def exists(self) -> bool:
        """False for a page past the last one (page 1 always exists, even when empty)."""
        return self.page <= self.pages

    @property
    def first_item(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_item(self) -> int:
        return min(self.total, self.offset + self.size)

    def href(self, n: int) -> str:
        params = list(self.query) + ([("page", str(n))] if n > 1 else [])
        return self.path + (f"?{urlencode(params)}" if params else "")

    @property
    def previous(self) -> str:
        return self.href(self.page - 1) if self.page > 1 else ""

    @property
    def next(self) -> str:
        return self.href(self.page + 1) if self.page < self.pages else ""

    def links(self, around: int = 2) -> list[PageLink]:
        """Page 1, the pages within `around` of this one, the last page; gaps between."""
        if self.pages <= 1:
            return []
        wanted = {1, self.pages} | set(range(self.page - around, self.page + around + 1))
        out: list[PageLink] = []
        last = 0
        for n in sorted(x for x in wanted if 1 <= x <= self.pages):
            if n > last + 1:
                out.append(PageLink(None, ""))
            out.append(PageLink(n, self.href(n), n == self.page))
            last = n
        return out
