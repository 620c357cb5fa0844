"""JSON Schemas (draft 2020-12) for `mdboard.yaml` and for each card type's front matter.

Editors use them for completion and validation while a person types: the YAML
extension of VS Code offers the roster's keys for `owner`, the platform keys, an
enum's options, and flags `due: 2026/12/1` before `mdboard check` would. The card
schemas are generated from the board's own config, so they say what this board
allows. Only keywords that draft-07 tools also understand are used (type, enum,
const, pattern, properties, items, required, anyOf, $defs/$ref), because editors
still validate with a draft-07 engine.
"""

from __future__ import annotations

import json
from pathlib import Path

from mdboard.core.config import CONFIG_NAME, FIELD_TYPES, KEY_RE, PREFIX_RE, STATE_RE, BoardConfig, CardType, FieldDef
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import LANGUAGES, t
from mdboard.core.store import Board
from mdboard.core.text import ID_PATTERN

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?$"
DATE_RULE_PATTERN = r"^\s*\w+\s*(<=|<)\s*\w+\s*$"
CONFIG_FILE = "mdboard.schema.json"


# --- mdboard.yaml -------------------------------------------------------------------------

def _strings() -> dict:
    """One string or a list of strings (mdboard.yaml accepts both for email, roles, requires …)."""
    return {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


def _object(properties: dict, required: list[str] | None = None, description: str = "") -> dict:
    """A mapping with exactly these keys (mdboard.yaml refuses unknown keys everywhere)."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


def _keyed(value: dict, pattern: str, description: str) -> dict:
    """A mapping from keys of a given form to values of one schema."""
    return {"type": "object", "description": description, "propertyNames": {"pattern": pattern},
            "additionalProperties": value}


def config_schema() -> dict:
    """The schema of `mdboard.yaml`: top-level keys, people, types, states and fields."""
    key = KEY_RE.pattern
    field = _object({
        "type": {"enum": list(FIELD_TYPES), "description": t("spreadsheet.schema_field_type")},
        "label": {"type": "string"}, "required": {"type": "boolean"}, "options": _strings(),
        "to": {"type": "string", "pattern": key, "description": t("spreadsheet.schema_field_to")},
        "help": {"type": "string"}})
    state = _object({
        "key": {"type": "string", "pattern": STATE_RE.pattern}, "label": {"type": "string"},
        "wip": {"type": "integer", "minimum": 1}, "requires": _strings(), "checklist": {"type": "boolean"},
        "roles": _strings(), "done": {"type": "boolean"}}, ["key"])
    ctype = _object({
        "label": {"type": "string"},
        "prefix": {"type": "string", "pattern": PREFIX_RE.pattern, "description": t("spreadsheet.schema_prefix")},
        "states": {"type": "array", "minItems": 1, "description": t("spreadsheet.schema_states"),
                   "items": {"anyOf": [{"type": "string", "pattern": STATE_RE.pattern}, {"$ref": "#/$defs/state"}]}},
        "transitions": {"type": "object", "additionalProperties": _strings()},
        "fields": _keyed({"anyOf": [{"enum": list(FIELD_TYPES)}, {"$ref": "#/$defs/field"}]}, key,
                         t("spreadsheet.schema_fields")),
        "date_order": {"type": "array", "items": {"type": "string", "pattern": DATE_RULE_PATTERN}},
        "milestones": _strings(), "template": {"type": "string"}}, ["states"])
    person = _object({"name": {"type": "string"}, "email": _strings(), "roles": _strings(), **_chat_ids()})
    return {
        "$schema": DRAFT, "title": CONFIG_NAME, "description": t("spreadsheet.schema_config"),
        **_object({
            "title": {"type": "string"}, "language": {"enum": list(LANGUAGES)},
            "timezone": {"type": "string", "description": t("spreadsheet.schema_timezone")},
            "commit": {"type": "boolean"},
            "platforms": _keyed({"type": "string"}, "^.+$", t("spreadsheet.schema_platforms")),
            "people": _keyed({"anyOf": [{"type": "string"}, {"$ref": "#/$defs/person"}]}, key,
                             t("spreadsheet.schema_people")),
            "types": _keyed({"$ref": "#/$defs/type"}, key, t("spreadsheet.schema_types")),
            "site_url": {"type": "string", "pattern": "^https?://", "description": t("notify.schema_site_url")},
            "notify": _notify_schema(key),
        }, ["types"]),
        "$defs": {"person": person, "type": ctype, "state": state, "field": field, "robot": _robot_schema()},
    }


def _chat_ids() -> dict:
    """A person's ids for @-mentions in group chats (a mobile number may be written without quotes)."""
    from mdboard.core.config import CHAT_ID_RE, MOBILE_RE

    ident = {"type": "string", "pattern": CHAT_ID_RE.pattern}
    return {"mobile": {"anyOf": [{"type": "string", "pattern": MOBILE_RE.pattern}, {"type": "integer"}],
                       "description": t("notify.schema_mobile")},
            "dingtalk": ident | {"description": t("notify.schema_dingtalk")},
            "feishu": ident | {"description": t("notify.schema_feishu")},
            "wecom": ident | {"description": t("notify.schema_wecom")}}


def _notify_schema(key: str) -> dict:
    from mdboard.core.config import TIME_RE, WEEKDAYS, WEEKDAYS_ZH

    return _object({"time": {"type": "string", "pattern": TIME_RE.pattern, "description": t("notify.hint_time")},
                    "days": {"type": "array", "items": {"enum": list(WEEKDAYS + WEEKDAYS_ZH)}},
                    "robots": _keyed({"$ref": "#/$defs/robot"}, key, t("notify.schema_robots"))},
                   description=t("notify.schema_notify"))


def _robot_schema() -> dict:
    from mdboard.core.config import ENV_RE, NOTIFY_SECTIONS, PLATFORM_NAMES

    env = {"type": "string", "pattern": ENV_RE.pattern}
    return _object({"platform": {"enum": list(PLATFORM_NAMES)}, "keyword": {"type": "string"},
                    "sections": {"type": "array", "items": {"enum": list(NOTIFY_SECTIONS)}},
                    "webhook_env": env, "secret_env": env}, ["platform"])


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
