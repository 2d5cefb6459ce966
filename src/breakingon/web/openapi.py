"""The OpenAPI 3.1 document of the JSON API (served at /openapi.json).

Hand-written to match `web.api`'s handlers and JSON shapes; schemathesis checks the
served API against it (tests/web/test_schemathesis.py).
"""

from __future__ import annotations

from typing import Any

from breakingon.sources.catalogue import MAX_OPML_BYTES
from breakingon.web.openapi_languages import LANGUAGE_COVERAGE, LANGUAGE_PARAM, LANGUAGE_REPORT
from breakingon.web.openapi_me import me_paths, me_schemas
from breakingon.web.params import MAX_ID, MAX_OFFSET, MAX_QUERY, QUERY_PATTERN, SECTIONS

_NULLABLE_STR = {"type": ["string", "null"]}
_STR_LIST = {"type": "array", "items": {"type": "string"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _resp(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": _json_content(schema)}


_ERR = _resp("Error", _ref("Error"))
_LIMIT = {
    "name": "limit",
    "in": "query",
    "description": "Page size; clamped to 1..100.",
    "schema": {"type": "integer"},
}
_OFFSET = {
    "name": "offset",
    "in": "query",
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
}
_ID_PATH = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
_COMMON = {"422": _ERR, "429": _ERR}
_ADMIN = {"401": _ERR, "403": _ERR, "413": _ERR, "429": _ERR}


def openapi_spec(title: str = "BreakingOn") -> dict[str, Any]:
    """The OpenAPI 3.1 document for every /api route (served at /openapi.json)."""
    place = {
        "type": "object",
        "required": ["geonameid", "name", "country", "kind", "lat", "lon"],
        "properties": {
            "geonameid": {"type": "integer"},
            "name": {"type": "string"},
            "country": {"type": "string"},
            "kind": {"type": "string", "enum": ["country", "region", "city"]},
            "lat": {"type": "number"},
            "lon": {"type": "number"},
        },
    }
    story = {
        "type": "object",
        "required": [
            "id",
            "url",
            "headline",
            "dek",
            "first_reported",
            "last_reported",
            "article_count",
            "outlet_count",
            "outlets",
            "countries",
            "languages",
            "sections",
            "places",
            "score",
            "breaking",
            "related",
            "image",
        ],
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "headline": {"type": "string"},
            "dek": {"type": "string"},
            "first_reported": {"type": "string", "format": "date-time"},
            "last_reported": {"type": "string", "format": "date-time"},
            "updated_at": _NULLABLE_STR,
            "article_count": {"type": "integer"},
            "outlet_count": {"type": "integer"},
            "outlets": _STR_LIST,
            "countries": _STR_LIST,
            "languages": _STR_LIST,
            "sections": _STR_LIST,
            "places": {"type": "array", "items": _ref("Place")},
            "score": {"type": "number"},
            "score_explanation": {"type": "string"},
            "breaking": {"type": "boolean"},
            "breaking_until": _NULLABLE_STR,
            "related": {"type": "array", "items": {"type": "integer"}},
            "image": {"oneOf": [_ref("Image"), {"type": "null"}]},
        },
    }
    image = {
        "type": "object",
        "required": ["url", "thumb_url", "width", "height", "credit"],
        "properties": {
            "url": {"type": "string"},  # served by this site (/media/<sha256>.jpg)
            "thumb_url": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "credit": {"type": "string"},  # the outlet the image came from
        },
    }
    citation = {
        "type": "object",
        "required": ["article_id", "outlet", "url"],
        "properties": {
            "article_id": {"type": "string"},
            "outlet": {"type": "string"},
            "url": {"type": "string"},
        },
    }
    sentence = {
        "type": "object",
        "required": ["text", "citations"],
        "properties": {
            "text": {"type": "string"},
            "citations": {"type": "array", "items": _ref("Citation")},
        },
    }
    brief = {
        "type": "object",
        "required": ["headline", "dek", "sections", "credits", "writer"],
        "properties": {
            "headline": {"type": "string"},
            "dek": {"type": "array", "items": _ref("Sentence")},
            "sections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["heading", "sentences"],
                    "properties": {
                        "heading": {"type": "string"},
                        "sentences": {"type": "array", "items": _ref("Sentence")},
                    },
                },
            },
            "credits": _STR_LIST,
            "writer": {"type": "string"},
            # outlets that give different figures for one fact, shown in their own box
            "disagreements": {"type": "array", "items": _ref("Sentence")},
            "language": {"type": "string"},  # ISO 639-1 of the dek and sections
            "other_languages": {"type": "array", "items": _ref("LanguageReport")},
        },
    }
    article = {
        "type": "object",
        "required": ["id", "url", "title", "outlet", "published"],
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "outlet": {"type": "string"},
            "source_id": {"type": ["integer", "null"]},
            "country": {"type": "string"},
            "language": {"type": "string"},
            "authors": _STR_LIST,
            "published": {"type": "string", "format": "date-time"},
            "story_id": {"type": ["integer", "null"]},
            "duplicate_of": {"type": ["integer", "null"]},
        },
    }
    source = {
        "type": "object",
        "required": ["id", "url", "outlet", "status"],
        "properties": {
            "id": {"type": ["integer", "null"]},
            "source_id": {"type": ["integer", "null"]},
            "url": {"type": "string"},
            "outlet": {"type": "string"},
            "country": {"type": "string"},
            "language": {"type": "string"},
            "sections": _STR_LIST,
            "place": {"type": "string"},
            "status": {"type": "string", "enum": ["active", "paused", "ended"]},
            "last_error": _NULLABLE_STR,
            "error_count": {"type": "integer"},
            "last_success_at": _NULLABLE_STR,
            "next_check_at": _NULLABLE_STR,
        },
    }
    story_detail = {
        "allOf": [
            _ref("Story"),
            {
                "type": "object",
                "required": ["brief", "articles", "brief_versions"],
                "properties": {
                    "brief": {"oneOf": [_ref("Brief"), {"type": "null"}]},
                    "articles": {"type": "array", "items": _ref("Article")},
                    "language_coverage": {"type": "array", "items": _ref("LanguageCoverage")},
                    "brief_versions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["version", "created_at", "article_count"],
                            "properties": {
                                "version": {"type": "integer"},
                                "created_at": {"type": "string"},
                                "article_count": {"type": "integer"},
                            },
                        },
                    },
                },
            },
        ]
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "detail": {"type": "string"},
            "parameter": {"type": "string"},
        },
    }
    page = {"limit": {"type": "integer"}, "offset": {"type": "integer"}}
    q_param = {
        "name": "q",
        "in": "query",
        "required": True,
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_QUERY,
            "pattern": QUERY_PATTERN,
        },
    }
    admin_security: list[dict[str, list[str]]] = [{"bearer": []}]
    status_param = {
        "name": "status",
        "in": "query",
        "schema": {"type": "string", "enum": ["active", "paused", "ended"]},
    }
    sources = _resp(
        "Sources",
        {
            "type": "object",
            "required": ["sources"],
            "properties": {"sources": {"type": "array", "items": _ref("Source")}},
        },
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{title} API",
            "version": "1.0.0",
            "description": "Stories, briefs, articles, sources, search and trends. Admin "
            "endpoints need `Authorization: Bearer <BREAKINGON_ADMIN_TOKEN>`; a reader's own "
            "data (/api/me) needs their token from `breakingon users token NAME`.",
        },
        "paths": {
            "/api/stories": {
                "get": {
                    "summary": "List stories by importance (or recency)",
                    "parameters": [
                        {
                            "name": "section",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(SECTIONS)},
                        },
                        {
                            "name": "place",
                            "in": "query",
                            "description": "GeoNames id",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        },
                        {
                            "name": "country",
                            "in": "query",
                            "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                        },
                        LANGUAGE_PARAM,
                        {
                            "name": "since",
                            "in": "query",
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        {"name": "breaking", "in": "query", "schema": {"type": "boolean"}},
                        {
                            "name": "order",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["score", "recent"]},
                        },
                        _LIMIT,
                        _OFFSET,
                    ],
                    "responses": {
                        "200": _resp(
                            "Stories",
                            {
                                "type": "object",
                                "required": ["stories", "total", "limit", "offset"],
                                "properties": {
                                    "stories": {"type": "array", "items": _ref("Story")},
                                    "total": {"type": "integer"},
                                    **page,
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/stories/{id}": {
                "get": {
                    "summary": "One story with its brief, articles and brief versions",
                    "parameters": [_ID_PATH],
                    "responses": {
                        "200": _resp("Story", _ref("StoryDetail")),
                        "404": _ERR,
                        **_COMMON,
                    },
                }
            },
            "/api/articles": {
                "get": {
                    "summary": "Latest articles",
                    "parameters": [
                        {
                            "name": "source",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        },
                        _LIMIT,
                        _OFFSET,
                    ],
                    "responses": {
                        "200": _resp(
                            "Articles",
                            {
                                "type": "object",
                                "required": ["articles", "limit", "offset"],
                                "properties": {
                                    "articles": {"type": "array", "items": _ref("Article")},
                                    **page,
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/sources": {
                "get": {
                    "summary": "Feeds and their health (URL without query values or "
                    "userinfo, error as a coarse class)",
                    "parameters": [status_param],
                    "responses": {"200": sources, **_COMMON},
                }
            },
            "/api/search": {
                "get": {
                    "summary": "Full-text search over stories and articles",
                    "parameters": [q_param, LANGUAGE_PARAM, _LIMIT, _OFFSET],
                    "responses": {
                        "200": _resp(
                            "Matches",
                            {
                                "type": "object",
                                "required": ["q", "stories", "articles", "limit", "offset"],
                                "properties": {
                                    "q": {"type": "string"},
                                    "language": _NULLABLE_STR,
                                    "stories": {"type": "array", "items": _ref("Story")},
                                    "articles": {"type": "array", "items": _ref("Article")},
                                    **page,
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/trends": {
                "get": {
                    "summary": "Trending terms and the stories behind them",
                    "parameters": [_LIMIT],
                    "responses": {
                        "200": _resp(
                            "Trends",
                            {
                                "type": "object",
                                "required": ["trends"],
                                "properties": {
                                    "trends": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": [
                                                "term",
                                                "score",
                                                "story_ids",
                                                "computed_at",
                                            ],
                                            "properties": {
                                                "term": {"type": "string"},
                                                "score": {"type": "number"},
                                                "story_ids": {
                                                    "type": "array",
                                                    "items": {"type": "integer"},
                                                },
                                                "computed_at": {"type": "string"},
                                                "language": {
                                                    "type": "string",
                                                    "description": "ISO 639-1 code of "
                                                    "the term's mentions; empty: English",
                                                },
                                            },
                                        },
                                    }
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/admin/sources": {
                "get": {
                    "summary": "Feeds with their stored URL and full last error",
                    "security": admin_security,
                    "parameters": [status_param],
                    "responses": {"200": sources, "422": _ERR, **_ADMIN},
                },
                "post": {
                    "summary": "Add a feed (URL validated, SSRF policy applied)",
                    "security": admin_security,
                    "requestBody": {
                        "required": True,
                        "content": _json_content(
                            {
                                "type": "object",
                                "required": ["url"],
                                "properties": {
                                    "url": {
                                        "type": "string",
                                        "format": "uri",
                                        "pattern": "^https?://",
                                        "maxLength": 2048,
                                        "description": "http(s) feed URL; refused (400) when "
                                        "malformed or when its host resolves to a private "
                                        "or reserved address",
                                    },
                                    "outlet": {"type": "string", "maxLength": 200},
                                    "country": {"type": "string", "maxLength": 2},
                                    "language": {"type": "string", "maxLength": 8},
                                    "sections": {
                                        "type": "array",
                                        "items": {"type": "string", "maxLength": 50},
                                        "maxItems": 20,
                                    },
                                    "place": {"type": "string", "maxLength": 200},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": _resp("Already present", _ref("SourceResult")),
                        "201": _resp("Added", _ref("SourceResult")),
                        "400": _ERR,
                        "422": _ERR,
                        **_ADMIN,
                    },
                },
            },
            "/api/admin/sources/{id}": {
                "delete": {
                    "summary": "Remove a feed",
                    "security": admin_security,
                    "parameters": [_ID_PATH],
                    "responses": {
                        "200": _resp(
                            "Removed",
                            {
                                "type": "object",
                                "required": ["removed", "id"],
                                "properties": {
                                    "removed": {"type": "boolean"},
                                    "id": {"type": "integer"},
                                },
                            },
                        ),
                        "404": _ERR,
                        "422": _ERR,
                        **_ADMIN,
                    },
                }
            },
            "/api/admin/sources/{id}/pause": {
                "post": {
                    "summary": "Pause a feed",
                    "security": admin_security,
                    "parameters": [_ID_PATH],
                    "responses": {
                        "200": _resp("Paused", _ref("SourceResult")),
                        "404": _ERR,
                        "422": _ERR,
                        **_ADMIN,
                    },
                }
            },
            "/api/admin/sources/{id}/resume": {
                "post": {
                    "summary": "Resume a feed",
                    "security": admin_security,
                    "parameters": [_ID_PATH],
                    "responses": {
                        "200": _resp("Resumed", _ref("SourceResult")),
                        "404": _ERR,
                        "422": _ERR,
                        **_ADMIN,
                    },
                }
            },
            "/api/admin/opml": {
                "post": {
                    "summary": f"Import an OPML document (at most {MAX_OPML_BYTES} bytes)",
                    "security": admin_security,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/x-opml": {"schema": {"type": "string"}},
                            "application/xml": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": _resp(
                            "Imported",
                            {
                                "type": "object",
                                "required": ["added", "existing", "rejected"],
                                "properties": {
                                    "added": {"type": "integer"},
                                    "existing": {"type": "integer"},
                                    "rejected": {"type": "array", "items": {"type": "object"}},
                                },
                            },
                        ),
                        "400": _ERR,
                        **_ADMIN,
                    },
                }
            },
            **me_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "userToken": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Error": error,
                "Place": place,
                "Story": story,
                "Image": image,
                "StoryDetail": story_detail,
                "Citation": citation,
                "Sentence": sentence,
                "Brief": brief,
                "LanguageReport": LANGUAGE_REPORT,
                "LanguageCoverage": LANGUAGE_COVERAGE,
                "Article": article,
                "Source": source,
                "SourceResult": {
                    "type": "object",
                    "required": ["source"],
                    "properties": {"source": _ref("Source"), "created": {"type": "boolean"}},
                },
                **me_schemas(),
            },
        },
    }
