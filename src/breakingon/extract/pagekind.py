"""Pages that are not news articles: interstitials, widgets and notices.

A crawler that follows article links also gets pages that only stand where an article
should be: "enable JavaScript" walls, cookie-consent and paywall interstitials, bot
checks, error pages, video players with nothing but their controls, social-widget help
text ("add a location to your Tweets"), shop pages, web-archive crawl notices and
teaser lists (an index page: the openings of other reports, each cut with "..."). Their
text is web furniture, not reporting: clustered as news, pages of one kind from
unrelated events join each other and surface as a story.

`non_article_kind` looks for the phrases of these page kinds in the first 200 words (for a
teaser list: three teasers cut there, whatever the page's length). A
page is a non-article when its text is short and shows the phrases of two kinds, or of
one kind three times, in two forms at least ("crawl start date ... the seed list for this
crawl ..."; a pub crawl named thrice stays news), or is
very short and shows one: a news report that mentions cookies or the Internet Archive
is longer than that and tells its event around the phrase. On the real articles of the
shared data (BBC 2,225, ECB+ 448, NewsWCL50 50, GeoWebNews 200, TR-News 118 and the 181
article bodies of the extraction benchmark) it fires on none.

Pure: no store, no network, no clock.
"""

from __future__ import annotations

import re

__all__ = ["non_article_kind"]

HEAD_WORDS = 200  # phrases are looked for in the first words only
SHORT_WORDS = 400  # a page this short with phrases of two kinds is not an article
TINY_WORDS = 80  # a page this short with phrases of one kind is not an article
REPEATS = 3  # ... nor a short page with this many phrases (two of them different) of one

_KINDS: dict[str, str] = {
    "javascript wall": (
        r"\b(?:enable|turn on|activate|allow)\s+javascript"
        r"|javascript\s+(?:is|must be|has been)\s+(?:disabled|enabled|required|turned off)"
        r"|requires?\s+javascript"
    ),
    "cookie consent": (
        r"\b(?:we|this (?:site|website)|our (?:site|partners)) uses?\s+cookies"
        r"|accept (?:all )?cookies|cookie (?:policy|settings|preferences)"
        r"|manage (?:your )?(?:privacy|consent)"
    ),
    "paywall": (
        r"\bsubscribe (?:now|today|to continue)|already (?:a subscriber|have an account)"
        r"|to continue reading|(?:log|sign) ?in to (?:continue|read)"
        r"|create a free account|subscriber[- ]only"
    ),
    "bot check": (
        r"\bverify (?:that )?you(?:'re| are) (?:a )?human|are you a robot|captcha"
        r"|unusual traffic from your|access (?:to this page has been )?denied"
    ),
    "error page": (
        r"\bpage (?:not found|cannot be found|you (?:requested|are looking for))|\b404\b"
        r"|(?:no longer|is not|isn't) available|has been (?:removed|deleted)"
    ),
    "media player": (
        r"\b(?:video|media) (?:is )?(?:unavailable|not available|playback is unsupported)"
        r"|when the video has been rented|interactive transcript"
        r"|this feature is not available right now|autoplay"
    ),
    "social widget": (
        r"\b(?:add|switch)\s+(?:a\s+)?location\s+(?:to|information)|your tweets"
        r"|tweet with a location|embed (?:this )?(?:tweet|video|post)"
    ),
    "crawl notice": (
        r"\b(?:web )?crawl(?:s|ed|er)?\b|wayback machine|internet archive|archive-it"
        r"|seed (?:list|urls?|for)"
    ),
    "shop page": (
        r"\badd to (?:cart|bag|basket)|shop now|free shipping|checkout"
        r"|log into your account|items? in your (?:cart|bag)"
    ),
    "navigation": (
        r"\bmore ?(?:>>|»|›)|most (?:popular|read|viewed|shared) (?:stories|articles|news)"
        r"|skip to (?:main )?content|back to top"
    ),
    "browser notice": (
        r"\b(?:upgrade|update) your browser|browser (?:is|does not|doesn't) (?:not )?support"
        r"|supported browser"
    ),
}
_PATTERNS = {kind: re.compile(rx) for kind, rx in _KINDS.items()}  # on lower-cased text
# A teaser cut short and the next teaser begun ("... affect an employee's sleep but
# their partner's as ... Less data-sharing among firms"): an index of other pages.
_TEASER_CUT = re.compile(r"\w\s?(?:\.\.\.|…)\s+[A-Z\"“]")
TEASER_CUTS = 3  # this many in the first words make a page a teaser list


def non_article_kind(title: str, text: str) -> str:
    """The kinds of non-article page a title and text are ("crawl notice", "error page,
    media player"), or "" for what may be an article."""
    words = text.split()
    if len(_TEASER_CUT.findall(" ".join(words[:HEAD_WORDS]))) >= TEASER_CUTS:
        return "teaser list"  # whatever its length: many reports cut short are none
    if len(words) >= SHORT_WORDS:
        return ""  # long enough to be a report whatever phrases it holds
    head = " ".join([*title.split(), *words[:HEAD_WORDS]]).lower()
    hits = {kind: rx.findall(head) for kind, rx in _PATTERNS.items()}
    kinds = [kind for kind, found in hits.items() if found]
    if len(kinds) >= 2 or (kinds and len(words) < TINY_WORDS):
        return ", ".join(kinds)
    if kinds and len(hits[kinds[0]]) >= REPEATS and len(set(hits[kinds[0]])) >= 2:
        return kinds[0]  # a short page that keeps to one kind's words is that kind
    return ""
