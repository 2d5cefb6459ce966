"""The OpenAPI description of the readers' own-data API (`web.me`, /api/me), merged
into the document `web.openapi` serves. Per-user bearer tokens (`breakingon users
token NAME`) are the `userToken` security scheme; the admin token is not accepted here.
"""

from __future__ import annotations

from typing import Any

from breakingon.records import FOLLOW_KINDS
from breakingon.web.params import MAX_ID

_ERR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_SECURITY: list[dict[str, list[str]]] = [{"userToken": []}]
_AUTH = {"401": _ERR, "413": _ERR, "429": _ERR}
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ok(description: str, name: str) -> dict[str, Any]:
    return {"description": description, "content": _json({"$ref": f"#/components/schemas/{name}"})}


def me_schemas() -> dict[str, Any]:
    follow = {
        "type": "object",
        "required": ["id", "kind", "value", "title", "stream_id", "url", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": list(FOLLOW_KINDS)},
            "value": {"type": "string"},
            "title": {"type": "string"},
            "stream_id": {"type": "string", "description": "The Google Reader API feed id"},
            "url": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "last_seen_at": _TIME,
        },
    }
    return {
        "Me": {
            "type": "object",
            "required": ["id", "name", "created_at", "follows"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "follows": {"type": "integer", "description": "How many streams are followed"},
            },
        },
        "Follow": follow,
        "FollowResult": {
            "type": "object",
            "required": ["follow", "created"],
            "properties": {
                "follow": {"$ref": "#/components/schemas/Follow"},
                "created": {"type": "boolean"},
            },
        },
        "Follows": {
            "type": "object",
            "required": ["follows"],
            "properties": {
                "follows": {"type": "array", "items": {"$ref": "#/components/schemas/Follow"}}
            },
        },
        "ItemState": {
            "type": "object",
            "required": ["story_id", "read", "starred", "read_at", "starred_at"],
            "properties": {
                "story_id": {"type": "integer"},
                "read": {"type": "boolean"},
                "starred": {"type": "boolean"},
                "read_at": _TIME,
                "starred_at": _TIME,
            },
        },
    }


def me_paths() -> dict[str, Any]:
    follow_body = {
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"type": "string", "enum": list(FOLLOW_KINDS)},
            "value": {
                "type": ["string", "integer"],
                "maxLength": 500,
                "description": "Section slug, place geonameid, outlet id, search query or "
                "story id; empty for top and breaking. A value that names nothing is 400.",
            },
            "title": {"type": "string", "maxLength": 200},
        },
    }
    state_body = {
        "type": "object",
        "properties": {"read": {"type": "boolean"}, "starred": {"type": "boolean"}},
    }
    return {
        "/api/me": {
            "get": {
                "summary": "The user the token belongs to",
                "security": _SECURITY,
                "responses": {"200": _ok("The user", "Me"), **_AUTH},
            }
        },
        "/api/me/follows": {
            "get": {
                "summary": "The streams the user follows (their reader-app subscriptions)",
                "security": _SECURITY,
                "responses": {"200": _ok("Follows", "Follows"), **_AUTH},
            },
            "post": {
                "summary": "Follow a stream (idempotent)",
                "security": _SECURITY,
                "requestBody": {"required": True, "content": _json(follow_body)},
                "responses": {
                    "200": _ok("Already followed", "FollowResult"),
                    "201": _ok("Followed", "FollowResult"),
                    "400": _ERR,
                    "422": _ERR,
                    **_AUTH,
                },
            },
        },
        "/api/me/follows/{id}": {
            "delete": {
                "summary": "Stop following (only the user's own follows)",
                "security": _SECURITY,
                "parameters": [_ID],
                "responses": {
                    "200": {
                        "description": "Removed",
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["removed", "id"],
                                "properties": {
                                    "removed": {"type": "boolean"},
                                    "id": {"type": "integer"},
                                },
                            }
                        ),
                    },
                    "404": _ERR,
                    "422": _ERR,
                    **_AUTH,
                },
            }
        },
        "/api/me/items/{id}": {
            "get": {
                "summary": "The user's read / starred state of a story",
                "security": _SECURITY,
                "parameters": [_ID],
                "responses": {"200": _ok("State", "ItemState"), "404": _ERR, "422": _ERR, **_AUTH},
            },
            "put": {
                "summary": "Mark a story read / unread, starred / unstarred",
                "security": _SECURITY,
                "parameters": [_ID],
                "requestBody": {"required": True, "content": _json(state_body)},
                "responses": {"200": _ok("State", "ItemState"), "404": _ERR, "422": _ERR, **_AUTH},
            },
        },
    }
