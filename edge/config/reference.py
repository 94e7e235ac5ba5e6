"""The config reference in docs/edge.md, generated from the models' own descriptions.

python -m edge.config.reference    # prints the Markdown
"""

import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from edge.config.agent import EdgeSettings
from edge.config.camera import CameraConfig
from edge.config.detector import MODELS_DIR
from edge.config.zones import ZoneConfig

BEGIN = "<!-- config-reference:begin (python -m edge.config.reference) -->"
END = "<!-- config-reference:end -->"
UNUSED = {"redis"}
"""Inherited sections the edge agent does not read."""


def _sections(model: type[BaseModel], path: str) -> list[tuple[str, type[BaseModel]]]:
    found = [(path, model)]
    for name, field in model.model_fields.items():
        if name in UNUSED:
            continue
        for kind in _kinds(field.annotation):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                suffix = "[]" if kind is CameraConfig else ""
                suffix = ".<zone>" if kind is ZoneConfig else suffix
                found += _sections(kind, f"{path}.{name}{suffix}" if path else name + suffix)
    return found


def _kinds(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType, list, dict) or str(origin).endswith("Annotated"):
        return [k for arg in get_args(annotation) for k in _kinds(arg)]
    return [annotation]


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.default_factory() if field.default_factory else field.default
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, Path) and value.is_relative_to(MODELS_DIR):
        return f"`models/{value.relative_to(MODELS_DIR)}`"
    return f"`{value}`" if value not in (None, [], {}) else "—"


def markdown() -> str:
    """One table per config section: key, default, description."""
    lines = [BEGIN]
    for path, model in _sections(EdgeSettings, ""):
        lines += ["", f"### `{path or '(top level)'}`", "", (model.__doc__ or "").strip(), ""]
        lines += ["| key | default | description |", "|---|---|---|"]
        for name, field in model.model_fields.items():
            if name in UNUSED:
                continue
            text = (field.description or field.title or "").replace("|", "\\|")
            lines.append(f"| `{name}` | {_default(field)} | {text} |")
    lines += ["", END]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
