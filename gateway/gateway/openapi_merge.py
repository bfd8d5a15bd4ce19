"""One OpenAPI document for the whole platform: the gateway's paths and every service's.

Service schemas are renamed ``{Service}{Name}`` so that equal names in two services
do not collide; the shared ``Problem`` schema is kept once. Operation ids are
prefixed with the service name so they are unique across the platform.
"""

from __future__ import annotations

import copy
from typing import Any

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


def merge_openapi(gateway_doc: dict[str, Any], service_docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged = copy.deepcopy(gateway_doc)
    merged["info"] = {
        "title": "Civic policy platform API",
        "version": gateway_doc.get("info", {}).get("version", "1.0.0"),
        "description": "Every service of the platform behind one gateway. "
        "Errors are RFC 9457 problem+json; money is a decimal string.",
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
    if tags:
        merged["tags"] = tags
    return merged
