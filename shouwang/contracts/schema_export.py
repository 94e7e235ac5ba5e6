"""Write the wire contract as JSON Schema files for integrators' own validators."""

import json
from pathlib import Path

from shouwang.contracts.common import SCHEMA_VERSION
from shouwang.contracts.decode import MODELS
from shouwang.contracts.topics import TOPIC_ROOT, TOPIC_VERSION

SCHEMA_BASE_URI = "https://shouwang.example/schemas/v1"


def export_schemas(directory: Path) -> list[Path]:
    """Write one `<kind>.schema.json` per message kind into `directory`; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, model in MODELS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"{SCHEMA_BASE_URI}/{kind.value}.schema.json"
        schema["description"] = (
            f"{(model.__doc__ or '').strip()}\n\nTopic: {TOPIC_ROOT}/{TOPIC_VERSION}/<site>/"
            f"<{model.SOURCE_FIELD}>/{kind.value}. schema_version: {SCHEMA_VERSION}."
        )
        path = directory / f"{kind.value}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
