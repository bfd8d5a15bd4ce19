"""Named enums and derived examples of the merged OpenAPI document (gateway.openapi_enums,
gateway.openapi_examples), on a small document."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from gateway.openapi_enums import name_enums
from gateway.openapi_examples import add_examples


def document() -> dict[str, Any]:
    grade = {"type": "string", "enum": ["A", "B", "C", "D"]}
    return {
        "paths": {
            "/api/appraisal/v1/results": {
                "get": {
                    "parameters": [{"name": "grade", "in": "query", "schema": {**grade, "title": "Grade"}}],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/AppraisalResult"}
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "AppraisalResult": {
                    "type": "object",
                    "required": ["grade", "status", "year"],
                    "properties": {
                        "grade": {**grade, "title": "Grade", "description": "The year's grade."},
                        "floor": {"anyOf": [grade, {"type": "null"}]},
                        "status": {"type": "string", "enum": ["draft", "published"]},
                        "year": {"type": "integer", "minimum": 2000},
                        "jurisdiction": {"type": "string", "pattern": "^[0-9]{6}$"},
                        "month": {"type": "string", "pattern": "^(19|20|21)\\d{2}-(0[1-9]|1[0-2])$"},
                        "points": {"type": "string", "pattern": "^-?[0-9]{1,12}(\\.[0-9]{1,2})?$"},
                    },
                },
                "AppraisalYear": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["open", "closed", "published"]},
                        "tag": {"const": "year"},
                    },
                },
                "AppraisalStage": {
                    "type": "object",
                    "properties": {"status": {"type": "string", "enum": ["open", "closed", "published"]}},
                },
            }
        },
    }


def test_inline_enums_become_one_named_schema_per_set_of_values() -> None:
    doc = document()
    name_enums(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["AppraisalGrade"] == {
        "title": "AppraisalGrade",
        "enum": ["A", "B", "C", "D"],
        "type": "string",
    }
    result = schemas["AppraisalResult"]["properties"]
    # what the field says about it stays beside the reference
    assert result["grade"] == {
        "$ref": "#/components/schemas/AppraisalGrade",
        "title": "Grade",
        "description": "The year's grade.",
    }
    assert result["floor"]["anyOf"][0] == {"$ref": "#/components/schemas/AppraisalGrade"}
    parameter = doc["paths"]["/api/appraisal/v1/results"]["get"]["parameters"][0]["schema"]
    assert parameter["$ref"] == "#/components/schemas/AppraisalGrade"
    # two sets would be "AppraisalStatus": the one used twice keeps it
    assert schemas["AppraisalStatus"]["enum"] == ["open", "closed", "published"]
    assert schemas["AppraisalYear"]["properties"]["status"] == {
        "$ref": "#/components/schemas/AppraisalStatus"
    }
    assert schemas["AppraisalResultStatus"]["enum"] == ["draft", "published"]
    # a single value (a union's tag) stays as it is
    assert schemas["AppraisalYear"]["properties"]["tag"] == {"const": "year"}


def test_derived_examples_fit_their_schemas_and_read_like_the_platforms_data() -> None:
    doc = document()
    name_enums(doc)
    add_examples(doc)
    content = doc["paths"]["/api/appraisal/v1/results"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]
    example = content["examples"]["derived"]["value"]
    assert example["grade"] == "A"
    assert example["year"] == 2024  # a year reads as one
    assert example["jurisdiction"] == "211100"
    assert example["month"] == "2024-07"
    assert example["points"] == "800.00"
    validator = Draft202012Validator({**content["schema"], "components": doc["components"]})
    assert list(validator.iter_errors(example)) == []
    # the specification's own example is kept, and nothing is derived beside it
    doc = document()
    own = {"grade": "B", "status": "draft", "year": 2024}
    doc["paths"]["/api/appraisal/v1/results"]["get"]["responses"]["200"]["content"]["application/json"][
        "example"
    ] = own
    add_examples(doc)
    kept = doc["paths"]["/api/appraisal/v1/results"]["get"]["responses"]["200"]["content"]["application/json"]
    assert kept["example"] == own
    assert "examples" not in kept
