"""The OpenAPI document's adjustments, in one place: what the models check in code, said in the schema
too (clients and fuzzers read it)."""

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from .. import spec as specs
from ..vocabulary import MEDIA_KINDS, PRIORITIES

# A multipart upload: the file and the fields a media job takes.
MULTIPART_JOB = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "kind": {"type": "string", "enum": list(MEDIA_KINDS)},
        "fit": {"type": "string", "enum": ["fit", "fill", "center"]},
        "priority": {"type": "string", "enum": list(PRIORITIES)},
        "duration_s": {"type": "number", "exclusiveMinimum": 0, "maximum": specs.MAX_DURATION_S},
        "repeat": {"type": "integer", "minimum": 1, "maximum": specs.MAX_REPEAT},
        "name": {"type": "string", "maxLength": 64, "pattern": r"^[A-Za-z0-9_.:-]*$"},
        "at": {"type": "string", "description": "ISO 8601, or a time of day HH:MM[:SS]"},
        "in_s": {"type": "number", "exclusiveMinimum": 0, "maximum": specs.MAX_DELAY_S},
    },
    "required": ["file"],
}


def install(app: FastAPI, demo_range: tuple[int, int]) -> None:
    def openapi():
        if not app.openapi_schema:
            app.openapi_schema = _schema(app, demo_range)
        return app.openapi_schema

    app.openapi = openapi


def _schema(app: FastAPI, demo_range: tuple[int, int]) -> dict:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = schema["components"]["schemas"]
    job_spec = TypeAdapter(specs.JobSpec).json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(job_spec.pop("$defs"))
    schemas["JobSpec"] = job_spec
    app_spec = specs.App.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(app_spec.pop("$defs"))
    # An app rotates: its content has none of the fields that say how a job plays.
    app_spec["properties"]["content"]["not"] = {"anyOf": [{"required": [field]} for field in specs.JOB_ONLY]}
    schemas["App"] = app_spec
    # duration_s and repeat exclude each other...
    for name in job_spec["discriminator"]["mapping"].values():
        schemas[name.rsplit("/", 1)[-1]]["not"] = {
            "required": ["duration_s", "repeat"],
            "properties": {"duration_s": {"type": "number"}, "repeat": {"type": "integer"}},
        }
    # ... and the legacy endpoint's n is required, an integer (anything else is a 400).
    for operation in schema["paths"]["/pixie/queue"].values():
        for parameter in operation["parameters"]:
            if parameter["name"] == "n":
                parameter["required"] = True
                parameter["schema"] = {"type": "integer", "minimum": demo_range[0], "maximum": demo_range[1]}
    return schema
