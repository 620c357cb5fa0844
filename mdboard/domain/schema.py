"""JSON Schemas (draft 2020-12) for `mdboard.yaml` and for each card type's front matter.

Editors use them for completion and validation while a person types: the YAML
extension of VS Code offers the roster's keys for `owner`, the platform keys, an
enum's options, and flags `due: 2026/12/1` before `mdboard check` would. The card
schemas are generated from the board's own config, so they say what this board
allows. Only keywords that draft-07 tools also understand are used (type, enum,
const, pattern, minimum, properties, additionalProperties, propertyNames, items,
minItems, minProperties, required, anyOf, $defs/$ref), because editors still validate
with a draft-07 engine. The schema of `mdboard.yaml` is written from the same
declarations the reader checks with (`core.config`).
"""

from __future__ import annotations

import json
from pathlib import Path

from mdboard.core.config import BOARD, CONFIG_NAME, BoardConfig, CardType, FieldDef, Key, Section
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import t
from mdboard.core.store import Board
from mdboard.core.text import ID_PATTERN

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?$"
CONFIG_FILE = "mdboard.schema.json"


# --- mdboard.yaml -------------------------------------------------------------------------
# Written from the declarations `parse_config` reads with (`core.config.BOARD` and the sections
# under it), so an editor flags a value exactly when `check` would refuse its kind.

def config_schema() -> dict:
    """The schema of `mdboard.yaml`: top-level keys, people, types, states, fields and notify."""
    defs: dict = {}
    return {"$schema": DRAFT, "title": CONFIG_NAME, "description": t("spreadsheet.schema_config"),
            **_section(BOARD, defs), "$defs": defs}


def _section(section: Section, defs: dict) -> dict:
    """A mapping with exactly the declared keys (mdboard.yaml refuses unknown keys everywhere);
    empty, it means every default, unless some key is required."""
    schema = {"type": "object" if section.required else ["object", "null"],
              "properties": {key.name: _key(key, defs) for key in section.keys}, "additionalProperties": False}
    required = [key.name for key in section.keys if key.required]
    if required:
        schema["required"] = required
    return schema


def _ref(section: Section, defs: dict) -> dict:
    """A nested section, written once under $defs; a plain string may stand for its shorthand key."""
    if section.name not in defs:
        defs[section.name] = {}
        defs[section.name] = _section(section, defs)
    schema = {"$ref": f"#/$defs/{section.name}"}
    if section.shorthand:
        schema = {"anyOf": [_value(section.key(section.shorthand), defs, string_only=True), schema]}
    return schema


def _key(key: Key, defs: dict) -> dict:
    """One declared key: its value's schema (empty allowed unless required) and description."""
    schema = _value(key, defs)
    if not key.required and key.kind != "section":  # a section's own schema takes an empty value
        schema = _or_null(schema)
    if key.describe:
        schema = {"description": t(key.describe), **schema}
    return schema


def _or_null(schema: dict) -> dict:
    """The schema, or an empty value (`key:` with nothing after it, which means the default)."""
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*kinds, "null"] if "null" not in kinds else kinds}
    return {"anyOf": [schema, {"type": "null"}]}


def _value(key: Key, defs: dict, string_only: bool = False) -> dict:
    """The schema of a value of the key's kind (see `core.config.Key`)."""
    kind = key.kind
    if kind == "text":
        return {"type": "string" if string_only else ["string", "number"]}
    if kind == "name":
        text = {"type": "string", **({"pattern": key.pattern} if key.pattern else {})}
        if not key.numbers:
            return text
        number = {"type": "integer", **({"minimum": key.minimum} if key.minimum is not None else {}),
                  **({"maximum": key.maximum} if key.maximum is not None else {})}
        return {"anyOf": [text, number]}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "int":
        return {"type": "integer", **({"minimum": key.minimum} if key.minimum is not None else {})}
    if kind == "enum":
        return {"enum": list(key.choices)}
    if kind == "refused":
        return {"type": "null", "description": t(key.bad)}
    if kind == "strings":
        item = {"enum": list(key.choices)} if key.choices else {
            "type": "string", **({"pattern": key.pattern} if key.pattern else {})}
        return {"anyOf": [item, {"type": "array", "items": item}]}
    if kind == "section":
        return _ref(key.of, defs)
    of = _ref(key.of, defs) if isinstance(key.of, Section) else _key(key.of, defs)
    if kind == "list":
        return {"type": "array", "items": of, **({"minItems": key.min_items} if key.min_items else {})}
    schema = {"type": "object", "additionalProperties": of}
    if key.names:
        schema["propertyNames"] = {"pattern": key.names}
    if key.min_items:
        schema["minProperties"] = key.min_items
    return schema


# --- card front matter ----------------------------------------------------------------------

def card_schema(board: Board, type_key: str) -> dict:
    """The schema of one card type's front matter, from the board's config."""

    cfg = board.config
    ctype = board.config.find_type(type_key)
    properties = {"id": {"type": "string", "pattern": _id_pattern(ctype), "description": t("spreadsheet.schema_id")}}
    for fd in ctype.fields.values():
        properties[fd.key] = field_schema(fd, cfg)
    schema = {"$schema": DRAFT, "title": t("spreadsheet.schema_card_title", type=ctype.label, key=ctype.key),
              "description": t("spreadsheet.schema_card", type=ctype.label, prefix=ctype.prefix),
              "type": "object", "properties": properties,
              "required": [fd.key for fd in ctype.fields.values() if fd.required]}
    return schema


def _id_pattern(ctype: CardType) -> str:
    return f"^{ctype.prefix}-\\d+$"


def field_schema(fd: FieldDef, cfg: BoardConfig) -> dict:
    """One field: its value schema (null allowed unless required) with its label and help."""
    value = _value_schema(fd, cfg)
    if fd.type in ("people", "platforms", "links", "tags"):
        value = {"type": "array", "items": value}
        if fd.required:
            value["minItems"] = 1
    elif fd.required and fd.type == "bool":
        value = {"const": True}  # `check` counts false as not filled in
    elif fd.required and fd.type == "text":
        value["minLength"] = 1
    described = {"title": fd.label}
    description = _describe(fd, cfg)
    if description != fd.label:
        described["description"] = description
    if fd.required:
        return {**described, **value}
    return {**described, "anyOf": [value, {"type": "null"}]}


def _value_schema(fd: FieldDef, cfg: BoardConfig) -> dict:
    """The schema of one value (one item, for list types)."""
    kind = {"people": "person", "platforms": "platform", "links": "link", "tags": "text"}.get(fd.type, fd.type)
    if kind == "text":
        return {"type": ["string", "number"]} if fd.type == "text" else {"type": "string"}
    if kind in ("number", "money"):
        return {"type": "number", **({"minimum": 0} if kind == "money" else {})}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "date":
        return {"type": "string", "pattern": DATE_PATTERN}
    if kind == "datetime":
        return {"type": "string", "pattern": DATETIME_PATTERN}
    if kind == "person":
        return {"type": "string", "enum": list(cfg.people)} if cfg.people else {"type": "string"}
    if kind == "platform":
        return {"type": "string", "enum": list(cfg.platforms)} if cfg.platforms else {"type": "string"}
    if kind == "enum":
        return {"type": "string", "enum": list(fd.options)}
    target = cfg.types.get(fd.to)
    return {"type": "string", "pattern": _id_pattern(target) if target else f"^{ID_PATTERN}$"}


def _describe(fd: FieldDef, cfg: BoardConfig) -> str:
    """The hover text: label, help, and what to write (keys with their names for people and platforms)."""
    parts = [fd.label] + ([fd.help] if fd.help else [])
    if fd.type in ("person", "people") and cfg.people:
        parts.append(t("spreadsheet.schema_choices", options=", ".join(f"{k}={p.name}" for k, p in cfg.people.items())))
    elif fd.type in ("platform", "platforms") and cfg.platforms:
        parts.append(t("spreadsheet.schema_choices", options=", ".join(f"{k}={v}" for k, v in cfg.platforms.items())))
    elif fd.type == "date":
        parts.append(t("fields.hint_date"))
    elif fd.type == "datetime":
        parts.append(t("fields.hint_datetime"))
    elif fd.type in ("link", "links") and fd.to in cfg.types:
        parts.append(t("fields.hint_link", example=f"{cfg.types[fd.to].prefix}-0001"))
    return " — ".join(parts)


# --- writing ----------------------------------------------------------------------------------

def schema_text(schema: dict) -> str:
    """Stable JSON text (same board, same bytes)."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def write_schemas(board: Board, out: str, type_key: str | None = None) -> list[Path]:
    """Write `mdboard.schema.json` and `<type>.schema.json` (every type, or only `type_key`) into `out`."""
    from mdboard.core.fsutil import atomic_write

    folder = Path(out)
    types = [board.config.find_type(type_key)] if type_key else list(board.config.types.values())
    files = {folder / CONFIG_FILE: config_schema()}
    files.update({folder / f"{ctype.key}.schema.json": card_schema(board, ctype.key) for ctype in types})
    try:
        for path, schema in files.items():
            atomic_write(path, schema_text(schema).encode("utf-8"), sync=False)
    except OSError as exc:
        raise MdboardError(t("spreadsheet.cannot_write", path=out, error=exc.strerror or str(exc)))
    return list(files)


def vscode_settings(board: Board, paths: list[Path]) -> dict:
    """The `yaml.schemas` setting that ties mdboard.yaml to its schema (paths relative to the board)."""
    config = next(p for p in paths if p.name == CONFIG_FILE)
    return {"yaml.schemas": {_relative(board, config): CONFIG_NAME}}


def _relative(board: Board, path: Path) -> str:
    try:
        return "./" + path.resolve().relative_to(board.root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()
