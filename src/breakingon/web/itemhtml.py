"""A story as the HTML body of a reader item (Google Reader, Fever): the brief, each
sentence with links to the reports it cites, then the story's sources as a list and a
link to the story page. Pure.

Every text is escaped and every link is an absolute http(s) URL (`web.api.safe_url`),
so a hostile headline, outlet name or URL can put no markup or script into a reader
app; the result then goes through nh3 (the same allow-list sanitizer the crawler uses)
as a second line of defence. A story without a brief shows its dek.
"""

from __future__ import annotations

from html import escape

import nh3

from breakingon.records import Brief, BriefSentence, Story
from breakingon.store.base_accounts import ItemSource
from breakingon.web.api import safe_url

SOURCE_LINKS = 12  # sources listed under an item


def _link(url: str, text: str) -> str:
    return f'<a href="{escape(url, quote=True)}">{escape(text)}</a>'


def _sentence(s: BriefSentence, by_id: dict[str, ItemSource]) -> str:
    links = []
    for c in s.citations:
        src = by_id.get(c.article_id)
        url = safe_url(c.url) or (safe_url(src.url) if src is not None else "")
        outlet = c.outlet or (src.outlet if src is not None else "") or "source"
        if url:
            links.append(_link(url, outlet))
    cited = f" ({', '.join(links)})" if links else ""
    return f"{escape(s.text)}{cited}"


def _brief_html(brief: Brief, by_id: dict[str, ItemSource]) -> list[str]:
    out = []
    if brief.dek:
        out.append("<p>" + " ".join(_sentence(s, by_id) for s in brief.dek) + "</p>")
    for section in brief.sections:
        if not section.sentences:
            continue
        out.append(f"<h3>{escape(section.heading)}</h3>")
        out.append("<p>" + " ".join(_sentence(s, by_id) for s in section.sentences) + "</p>")
    if brief.disagreements:
        out.append("<h3>Where reports differ</h3>")
        items = "".join(f"<li>{_sentence(s, by_id)}</li>" for s in brief.disagreements)
        out.append(f"<ul>{items}</ul>")
    return out


def item_html(
    story: Story, brief: Brief | None, sources: tuple[ItemSource, ...], story_url: str
) -> str:
    """The item's HTML: brief (or dek), sources, a link to the story page."""
    by_id = {str(s.article_id): s for s in sources}
    parts = _brief_html(brief, by_id) if brief is not None else []
    if not parts and story.dek:
        parts.append(f"<p>{escape(story.dek)}</p>")
    listed = []
    seen: set[str] = set()
    for s in sources:
        url = safe_url(s.url)
        if not url or s.outlet in seen:
            continue
        seen.add(s.outlet)
        label = f"{s.outlet}: {s.title}" if s.outlet and s.title else s.title or s.outlet or url
        listed.append(f"<li>{_link(url, label)}</li>")
        if len(listed) >= SOURCE_LINKS:
            break
    if listed:
        parts.append("<h3>Sources</h3>")
        parts.append("<ul>" + "".join(listed) + "</ul>")
    if safe_url(story_url):
        parts.append(f"<p>{_link(story_url, 'The whole story on its page')}</p>")
    return nh3.clean("\n".join(parts), link_rel="noopener noreferrer nofollow")
