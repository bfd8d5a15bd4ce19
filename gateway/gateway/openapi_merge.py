"""One OpenAPI document for the whole platform: the gateway's paths and every service's.

Service schemas are renamed ``{Service}{Name}`` so that equal names in two services
do not collide; the shared ``Problem`` schema is kept once. Operation ids are
prefixed with the service name so they are unique across the platform.
"""

from __future__ import annotations

import copy
from typing import Any

from gateway.openapi_enums import name_enums
from gateway.openapi_examples import add_examples

SERVICE_ONLY_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
SHARED_SCHEMAS = frozenset({"Problem"})
SCHEMA_REF = "#/components/schemas/"
# What the gateway itself may answer for any proxied operation.
GATEWAY_ANSWERS = {
    "413": "Request body too large (gateway)",
    "429": "Too many requests (gateway rate limit; see Retry-After)",
    "502": "The service broke off its answer (gateway)",
    "503": "The service is not reachable (gateway)",
    "504": "The service did not answer in time (gateway)",
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": SCHEMA_REF + "Problem"}}},
    }


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    """Rewrite every reference to a renamed schema: ``$ref`` values and discriminator mappings."""
    if isinstance(node, dict):
        return {key: _rename_refs(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    if isinstance(node, str) and node.startswith(SCHEMA_REF):
        name = node.removeprefix(SCHEMA_REF)
        return SCHEMA_REF + renames.get(name, name)
    return node


# headers every answer carries (shared.middleware), and Location on 201 (shared.created)
COMMON_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (the caller's X-Request-ID when it sent a plain token); "
        "quote it when asking for support.",
        "schema": {"type": "string"},
    },
    "X-Trace-ID": {
        "description": "The W3C trace id (32 hex digits) of the trace this answer belongs to.",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
    },
}
LOCATION_HEADER = {
    "description": "Where to read what was made.",
    "schema": {"type": "string"},
}
# what an answer that counts against a client's limit tells (IETF httpapi ratelimit-headers
# draft; gateway.proxy.forwarder.rate_limit_headers), on every operation behind /api/
RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Policy": {
        "description": 'The client\'s quota: `"per-minute";q=<requests>;w=60`.',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it: `"per-minute";r=<remaining>;t=<seconds to the reset>`.',
        "schema": {"type": "string"},
    },
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before asking again.",
    "schema": {"type": "integer", "minimum": 0},
}
PUBLIC_PATHS = frozenset({"/auth/token", "/.well-known/jwks.json", "/healthz", "/readyz", "/metrics"})
SERVICE_DESCRIPTIONS = {
    "welfare": "Minimum living allowance (dibao), extreme poverty support and other assistance: "
    "standards, register, payroll, ledger, recalculations.",
    "eldercare": "Services for older people: catalogues, evaluations, register, snapshots, visits.",
    "appraisal": "Annual appraisal of counties: schemes, years, assessment, evidence, results.",
    "renewal": "Urban renewal plans: tasks, duties, reports, bulletins, equipment.",
}


def merge_openapi(gateway_doc: dict[str, Any], service_docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged = copy.deepcopy(gateway_doc)
    merged["info"] = {
        "title": "Civic policy platform API",
        "version": gateway_doc.get("info", {}).get("version", "1.0.0"),
        "description": "Every service of the platform behind one gateway. "
        "Errors are RFC 9457 problem+json; money is a decimal string.",
        "contact": {"name": "Platform operations"},
    }
    paths = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    security = components.setdefault("securitySchemes", {})
    tags: list[dict[str, Any]] = list(merged.get("tags", []))
    for service, doc in sorted(service_docs.items()):
        prefix = service.capitalize()
        service_schemas = doc.get("components", {}).get("schemas", {})
        renames = {name: (name if name in SHARED_SCHEMAS else f"{prefix}{name}") for name in service_schemas}
        for name, schema in service_schemas.items():
            target = renames[name]
            schema = _rename_refs(schema, renames)
            if target != name and "title" in schema:
                schema["title"] = target
            schemas.setdefault(target, schema)
        security.update(doc.get("components", {}).get("securitySchemes", {}))
        for path, operations in doc.get("paths", {}).items():
            if path in SERVICE_ONLY_PATHS or not path.startswith(f"/api/{service}/"):
                continue
            operations = _rename_refs(operations, renames)
            for operation in operations.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    operation["operationId"] = f"{service}-{operation['operationId']}"
                    # tags name their service: "register" of welfare is not eldercare's
                    operation["tags"] = [f"{service}: {tag}" for tag in operation.get("tags", [])] or [
                        service
                    ]
                    responses = operation.setdefault("responses", {})
                    for answer in responses.values():
                        for link in answer.get("links", {}).values():
                            link["operationId"] = f"{service}-{link['operationId']}"
                    for status, title in GATEWAY_ANSWERS.items():
                        responses.setdefault(status, _problem(title))
            paths[path] = operations
        tags.extend(
            {"name": tag["name"], "description": tag.get("description", "")}
            for tag in doc.get("tags", [])
            if tag.get("name") not in {t["name"] for t in tags}
        )
    _complete(merged, tags)
    return merged


def _complete(merged: dict[str, Any], tags: list[dict[str, Any]]) -> None:
    """What the document tells beyond the paths: servers, tags, public operations, the headers
    every answer carries, a description on every operation, and no unused schema."""
    merged["servers"] = [{"url": "/", "description": "This gateway (every service behind it)"}]
    headers = merged.setdefault("components", {}).setdefault("headers", {})
    headers.update(COMMON_HEADERS)
    headers["Location"] = LOCATION_HEADER
    headers.update(RATE_LIMIT_HEADERS)
    headers["Retry-After"] = RETRY_AFTER_HEADER
    used_tags: dict[str, None] = {}
    for path, item in merged.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if path in PUBLIC_PATHS or "security" not in operation:
                operation["security"] = []  # no token needed (the protected ones declare theirs)
            operation.setdefault("description", operation.get("summary", ""))
            for tag in operation.get("tags", []):
                used_tags[tag] = None
            for status, answer in operation["responses"].items():
                answer_headers = answer.setdefault("headers", {})
                for name in COMMON_HEADERS:
                    answer_headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})
                if status == "201" and method == "post":
                    answer_headers.setdefault("Location", {"$ref": "#/components/headers/Location"})
                if path.startswith("/api/"):
                    for name in RATE_LIMIT_HEADERS:
                        answer_headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})
                if status == "429":
                    answer_headers.setdefault("Retry-After", {"$ref": "#/components/headers/Retry-After"})
    described = {tag["name"]: tag for tag in tags}
    merged["tags"] = [
        described.get(name)
        or {"name": name, "description": SERVICE_DESCRIPTIONS.get(name.split(":")[0], "The platform's own.")}
        for name in sorted(used_tags)
    ]
    name_enums(merged)
    add_examples(merged)
    _drop_unused_schemas(merged)


def _drop_unused_schemas(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    pending = [document.get("paths", {})]
    reached: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF):
                    name = value.removeprefix(SCHEMA_REF)
                    if name not in reached:
                        reached.add(name)
                        pending.append(schemas.get(name, {}))
                elif key == "mapping" and isinstance(value, dict):
                    pending.append([{"$ref": ref} for ref in value.values()])
                else:
                    pending.append(value)
        elif isinstance(node, list) or (not isinstance(node, str | int | float | bool) and node is not None):
            pending.extend(node)
    for name in list(schemas):
        if name not in reached:
            del schemas[name]
