"""OpenAPI details the routes declare: their problem responses, and request bodies for routes
that read their body themselves, from pydantic models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from gateway.schemas import Problem

#: A media type's body: a model (its JSON schema), or a JSON schema for what is not JSON.
Content = type[BaseModel] | dict[str, Any]
#: A route's ``responses``: what each status code returns.
Responses = dict[int | str, dict[str, Any]]


def problems(*statuses: int) -> Responses:
    """Return ``responses`` declaring a :class:`Problem` body for each of ``statuses``."""
    return {status: {"model": Problem} for status in statuses}


def request_body(content: Mapping[str, Content]) -> dict[str, Any]:
    """Return ``openapi_extra`` declaring a required body of each media type in ``content``."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": body if isinstance(body, dict) else inline_schema(body)}
                for media, body in content.items()
            },
        }
    }


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Return ``model``'s JSON schema (by alias) with its nested models written in place:
    ``openapi_extra`` cannot add them to the document's components."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return dict(resolve(schema))
