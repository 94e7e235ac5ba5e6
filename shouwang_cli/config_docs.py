"""Render settings models as Markdown, so the configuration reference comes from the code."""

from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    for prefix in ("typing.", "pathlib.", "pydantic.types."):
        text = text.replace(prefix, "")
    return text.replace("NoneType", "null").replace(" | ", " or ")


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "(computed)"
    if field.default is PydanticUndefined:
        return "(required)"
    return f"`{field.default!r}`" if field.default is not None else "null"


def _table(section: str, model: type[BaseModel], env_prefix: str) -> list[str]:
    lines = [
        f"### `{section}`",
        "",
        (model.__doc__ or "").strip(),
        "",
        "| key | type | default | environment | description |",
        "|---|---|---|---|---|",
    ]
    for name, field in model.model_fields.items():
        env = f"`{env_prefix}{section.upper()}__{name.upper()}`"
        description = (field.description or "").replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {env} "
            f"| {description} |"
        )
    lines.append("")
    return lines


def settings_reference(title: str, settings: type[BaseModel], env_prefix: str) -> str:
    """Markdown tables of every section (nested model) and top-level key of `settings`."""
    lines = [f"## {title}", ""]
    scalars = []
    for name, field in settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines.extend(_table(name, annotation, env_prefix))
        else:
            scalars.append((name, field))
    if scalars:
        lines.extend(["### top level", "", "| key | type | default | environment | description |"])
        lines.append("|---|---|---|---|---|")
        for name, field in scalars:
            lines.append(
                f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} "
                f"| `{env_prefix}{name.upper()}` | {field.description or ''} |"
            )
        lines.append("")
    return "\n".join(lines)
