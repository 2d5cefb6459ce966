"""The story stage: what a story is worth and what it says, from its articles.

`update.update_story(articles, outlets, now, cfg)` decides everything the stage stores
for one story, from `coverage` (places, sections, languages), `rank` (importance and
its explanation), `breaking` (the breaking flag), `headline` (the final headline and
dek, decided once; `headline_i18n`: the rules of other languages) and `brief/` (which
articles a brief reads, the cited brief);
`trends` finds bursting terms. Pure: records and `now` in, records out (the optional
abstractive rewrite in `brief.llm` aside); must not touch the store, the web layer,
or tag an article again (page kind and places come stored with it).
"""
