"""Languages: what the stages and the site need to know about the languages of a story.

`words` holds small per-language word lists (abbreviations, pronouns, first-person words,
negations, number words) for German, French, Spanish, Portuguese, Italian and Dutch;
`sentences` applies them: sentence boundaries in any script, word counts, and the brief
filters' word rules that `text.py` calls for text that is not English; `coverage` counts
a story's independent outlets and countries per language and decides the language its
brief is written in; `names` gives a language's name in English and in itself (Babel's
CLDR data). Pure: standard library, Babel and records only; must not touch the store,
the network, the web layer or a stage.
"""
