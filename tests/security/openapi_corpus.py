"""Requests built from the OpenAPI document: a plausible value for every parameter and body field, and the
same request with every value replaced by one kind of bad input. Used by ``test_bad_input_corpus``; because
everything comes from the document, a route added later is probed without anyone listing it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

# The bad values of each kind, by the type the document declares.
ODD_UNICODE = "\u202e\u200b\ufeff😀\U0010ffff\ud800Ω̸"
BAD: dict[str, dict[str, Any]] = {
    "nul": {"string": "a\x00b", "integer": "1\x00", "number": "1\x00", "boolean": "\x00"},
    "int32": {"string": str(2**31), "integer": 2**31, "number": 2**31, "boolean": 2**31},
    "int64": {"string": str(2**63 + 1), "integer": 2**63 + 1, "number": 10**30, "boolean": 10**30},
    "negative": {"string": str(-(2**63) - 1), "integer": -(2**63) - 1, "number": -1e308, "boolean": -1},
    "unicode": {"string": ODD_UNICODE, "integer": "١٢٣", "number": "１.５", "boolean": "ｔｒｕｅ"},
    "wrong_type": {"string": ["x", {"y": 1}], "integer": {"a": 1}, "number": "abc", "boolean": "maybe"},
    "null": {"string": None, "integer": None, "number": None, "boolean": None},
    "long": {"string": "长" * 60_000, "integer": "9" * 5000, "number": "9" * 5000, "boolean": "t" * 5000},
}
RAW_BODIES = {"deep": b"[" * 100_000, "oversize": b'{"x": "' + b"x" * (2 * 1024 * 1024) + b'"}',
              "not_json": b"\xff\xfe{,", "empty": b""}
URL_VALUE = 500  # characters of a long value in a path or query (a URL has a length limit of its own)
PATH_KINDS = ("nul", "int32", "int64", "negative", "unicode", "long")


@dataclass
class Probe:
    method: str
    url: str
    kind: str
    json_body: Any = None
    raw_body: bytes | None = None
    files: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.json_body is not None:
            self.headers = self.headers | {"content-type": "application/json"}

    def content(self) -> bytes | None:
        """JSON with ASCII escapes, so a lone surrogate travels as ``\ud800`` (as any client may send it)."""
        if self.json_body is not None:
            return json.dumps(self.json_body).encode()
        return self.raw_body


class Document:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def kind_of(self, schema: dict[str, Any]) -> str:
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                options = [self.resolve(s) for s in schema[key] if self.resolve(s).get("type") != "null"]
                return self.kind_of(options[0]) if options else "null"
        return schema.get("type", "object" if "properties" in schema else "string")

    def sample(self, schema: dict[str, Any], bad: str | None, depth: int = 0) -> Any:
        """A plausible value (``bad`` None) or one with every leaf of that kind of bad input."""
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                options = [s for s in schema[key] if self.resolve(s).get("type") != "null"] or schema[key]
                return self.sample(options[0], bad, depth)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if kind == "object":
            if depth > 4:
                return {}
            props = schema.get("properties", {})
            return {name: self.sample(sub, bad, depth + 1) for name, sub in props.items()}
        if kind == "array":
            return [self.sample(schema.get("items", {}), bad, depth + 1)]
        if bad is not None:
            return BAD[bad].get(kind, BAD[bad]["string"])
        if "enum" in schema:
            return schema["enum"][0]
        if kind == "integer":
            return max(1, schema.get("minimum", 1))
        if kind == "number":
            return 24.6
        if kind == "boolean":
            return False
        if schema.get("format") == "date-time":
            return datetime.now(UTC).isoformat()
        if schema.get("format") == "date":
            return datetime.now(UTC).date().isoformat()
        return "测试" if not schema.get("minLength") else "测试" * max(1, schema["minLength"])

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for path, operations in self.doc["paths"].items():
            for method, operation in operations.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    yield method.upper(), path, operation

    def probes(self, method: str, path: str, operation: dict[str, Any]) -> Iterator[Probe]:
        params = operation.get("parameters", [])
        in_path = [p for p in params if p["in"] == "path"]
        in_query = [p for p in params if p["in"] == "query"]
        content = operation.get("requestBody", {}).get("content", {})

        def url(path_bad: str | None, query_bad: str | None) -> str:
            filled = path
            for p in in_path:
                value = self.sample(p.get("schema", {}), path_bad)
                filled = filled.replace("{" + p["name"] + "}", quote(str(value)[:URL_VALUE], safe="",
                                                                      errors="surrogatepass"))
            pairs = []
            for p in in_query:
                value = self.sample(p.get("schema", {}), query_bad)
                for one in value if isinstance(value, list) else [value]:
                    text = "" if one is None else json.dumps(one) if isinstance(one, dict) else str(one)
                    pairs.append((p["name"], text[:URL_VALUE]))
            return filled + ("?" + urlencode(pairs, errors="surrogatepass") if pairs else "")

        def body(bad: str | None) -> dict[str, Any]:
            if "application/json" in content:
                return {"json_body": self.sample(content["application/json"].get("schema", {}), bad)}
            if "multipart/form-data" in content:
                odd = ODD_UNICODE.replace("\ud800", "")  # a file name is encoded by the client itself
                name = "a\x00.jpg" if bad == "nul" else odd + ".jpg" if bad == "unicode" else "a.jpg"
                return {"files": {"file": (name, b"\xff\xd8\xff" + b"\0" * 64, "image/jpeg")}}
            return {}

        for kind in BAD:
            yield Probe(method, url(None, kind), kind, **body(kind))
        if in_path:
            for kind in PATH_KINDS:
                yield Probe(method, url(kind, None), "path:" + kind, **body(None))
        if content:
            for kind, raw in RAW_BODIES.items():
                yield Probe(method, url(None, None), "body:" + kind, raw_body=raw,
                            headers={"content-type": "application/json"})
