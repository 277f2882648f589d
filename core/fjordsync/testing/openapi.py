"""Validate sandbox traffic against a vendor's OpenAPI document with openapi-core.

``OpenAPIContract(spec_dict, server_url)`` checks httpx requests and responses: the request is
presented to openapi-core as if it had gone to the vendor's own server, so the document's
``servers`` need no change. Needs the ``testing`` extra.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["OpenAPIContract", "fix_norway"]


def fix_norway(node: Any) -> Any:
    """YAML 1.1 read the country code NO as ``false`` (the "Norway problem"), which then went
    into the document as false or "false": put "NO" back into enums of country codes, as
    plugins/alexis/contract/README.md says."""
    if isinstance(node, dict):
        fixed = {k: fix_norway(v) for k, v in node.items()}
        enum = fixed.get("enum")
        if isinstance(enum, list) and any(v is False or v == "false" for v in enum):
            others = [v for v in enum if not (v is False or v == "false")]
            if others and all(isinstance(v, str) and len(v) == 2 and v.isupper() for v in others):
                fixed["enum"] = ["NO" if v is False or v == "false" else v for v in enum]
        return fixed
    if isinstance(node, list):
        return [fix_norway(v) for v in node]
    return node


class _Request:
    def __init__(self, request: httpx.Request, server_url: str, strip_prefix: str) -> None:
        parts = urlsplit(server_url)
        self.host_url = f"{parts.scheme}://{parts.netloc}"
        path = request.url.path
        if strip_prefix and path.startswith(strip_prefix):
            path = path[len(strip_prefix) :]
        self.path = parts.path.rstrip("/") + path
        self.method = request.method.lower()
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "application/json").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(request.url.query.decode(), keep_blank_values=True)),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.data = response.content
        self.content_type = response.headers.get("content-type", "").split(";")[0].lower()
        self.headers = Headers(list(response.headers.items()))


class OpenAPIContract:
    def __init__(self, spec: dict[str, Any], server_url: str, *, strip_prefix: str = "") -> None:
        """``server_url`` is one of the document's servers; ``strip_prefix`` is the part of the
        sandbox's paths that the server URL already holds (``/v1`` for AlexisHR)."""
        # The vendors' documents are not all valid OpenAPI (AlexisHR's repeats operation ids):
        # traffic is checked against their schemas, not the documents against the standard.
        self.openapi = OpenAPI.from_dict(fix_norway(spec), config=Config(spec_validator_cls=None))
        self.server_url = server_url
        self.strip_prefix = strip_prefix

    def validate_response(self, response: httpx.Response) -> None:
        """Raises an openapi-core error when the answer does not fit the document."""
        self.openapi.validate_response(
            _Request(response.request, self.server_url, self.strip_prefix), _Response(response)
        )

    def validate_request(self, request: httpx.Request) -> None:
        self.openapi.validate_request(_Request(request, self.server_url, self.strip_prefix))
