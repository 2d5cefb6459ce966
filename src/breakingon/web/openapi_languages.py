"""The OpenAPI parts for stories by language (`web.openapi` puts them in its document):
the `language` query parameter, a story's coverage per language and a brief's
reporting in other languages."""

from __future__ import annotations

from typing import Any

__all__ = ["LANGUAGE_COVERAGE", "LANGUAGE_PARAM", "LANGUAGE_REPORT"]

LANGUAGE_PARAM: dict[str, Any] = {
    "name": "language",
    "in": "query",
    "description": "ISO 639-1 code: only stories with reporting in this language "
    "(articles: in this language).",
    "schema": {"type": "string", "pattern": "^[a-z]{2,3}$"},
}
# /api/stories/{id}: "language_coverage", most covered first (the brief's rule)
LANGUAGE_COVERAGE: dict[str, Any] = {
    "type": "object",
    "required": ["code", "name", "native_name", "outlets", "countries", "articles"],
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},  # in English: "German"
        "native_name": {"type": "string"},  # in itself: "Deutsch"
        "outlets": {"type": "integer"},  # independent outlets reporting in it
        "countries": {"type": "integer"},  # their countries
        "articles": {"type": "integer"},
    },
}
# Brief.other_languages: each other language's outlets and lead sentences, in it
LANGUAGE_REPORT: dict[str, Any] = {
    "type": "object",
    "required": ["language", "outlets", "sentences"],
    "properties": {
        "language": {"type": "string"},
        "outlets": {"type": "array", "items": {"type": "string"}},
        "sentences": {"type": "array", "items": {"$ref": "#/components/schemas/Sentence"}},
    },
}
