"""Validate request bodies and query strings against a Swagger 2.0 spec (with the ``jsonschema`` package).

Definitions become Draft 4 JSON Schema: ``x-nullable: true`` allows null, ``allOf`` is merged into one object,
an object takes no undeclared properties unless it declares ``additionalProperties``, and a ``readOnly``
property is an error when sent. Formats checked: ``date`` (Y-m-d) and ``date-time``/``datetime`` (Y-m-d H:i:s).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

from jsonschema import Draft4Validator, FormatChecker, ValidationError
from jsonschema.validators import extend


def _is_date(value) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and date.fromisoformat(value))


def _is_date_time(value) -> bool:
    return not isinstance(value, str) or bool(datetime.strptime(value, "%Y-%m-%d %H:%M:%S"))


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date", raises=ValueError)(_is_date)
_FORMATS.checks("date-time", raises=ValueError)(_is_date_time)
_FORMATS.checks("datetime", raises=ValueError)(_is_date_time)


def _read_only(validator, read_only, instance, schema):
    if read_only:
        yield ValidationError("is read-only and must not be sent")


_Validator = extend(Draft4Validator, {"readOnly": _read_only})


class Swagger:
    """One Swagger 2.0 document: its definitions as JSON Schema, its operations' parameters."""

    def __init__(self, path):
        self.spec = json.loads(Path(path).read_text(encoding="utf-8"))
        self._definitions = {name: self._convert(schema) for name, schema in self.spec["definitions"].items()}
        self._validators: dict[str, _Validator] = {}

    def _resolve(self, schema: dict) -> dict:
        """``schema`` itself, or what its local ``$ref`` (``#/definitions/X``, ``#/parameters/X``) points to."""
        while "$ref" in schema:
            _, section, name = schema["$ref"].split("/")
            schema = self.spec[section][name]
        return schema

    def _convert(self, schema: dict) -> dict:
        if "$ref" in schema:
            return {"$ref": schema["$ref"]}
        out = {k: v for k, v in schema.items() if not k.startswith("x-") and k not in ("allOf", "example")}
        properties = {k: self._convert(v) for k, v in schema.get("properties", {}).items()}
        required = list(schema.get("required", []))
        for part in schema.get("allOf", []):  # merged, so that additionalProperties=false sees every property
            merged = self._convert(self._resolve(part))
            properties.update(merged.get("properties", {}))
            required += merged.get("required", [])
        if schema.get("x-nullable"):
            if "type" in out:
                out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        if "items" in schema:
            out["items"] = self._convert(schema["items"])
        if properties or schema.get("type") == "object":
            out["properties"] = properties
            out["required"] = [r for r in required if not self._resolve(properties.get(r, {})).get("readOnly")]
            if not out["required"]:
                del out["required"]
            extra = schema.get("additionalProperties", False)
            out["additionalProperties"] = self._convert(extra) if isinstance(extra, dict) else extra
        return out

    def operation(self, method: str, path_template: str) -> dict:
        """The operation object of ``method`` on ``path_template`` (KeyError when the spec has none)."""
        return self.spec["paths"][path_template][method.lower()]

    def _parameters(self, method: str, path_template: str) -> list[dict]:
        return [self._resolve(p) for p in self.operation(method, path_template).get("parameters", [])]

    def request_body_definition(self, method: str, path_template: str) -> str | None:
        """The definition name of the operation's ``body`` parameter, or None when it takes no JSON body."""
        for param in self._parameters(method, path_template):
            if param["in"] == "body":
                return param["schema"]["$ref"].rsplit("/", 1)[-1]
        return None

    def validate(self, definition_name: str, body) -> list[str]:
        """Problems of ``body`` sent as ``definition_name``, each ``"<json path>: <problem>"``; [] when valid."""
        validator = self._validators.get(definition_name)
        if validator is None:
            schema = {**self._definitions[definition_name], "definitions": self._definitions}
            validator = self._validators[definition_name] = _Validator(schema, format_checker=_FORMATS)
        problems = []
        for error in sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path]):
            where = list(error.absolute_path)
            if error.validator == "required":
                missing = [n for n in error.validator_value if n not in error.instance]
                problems += [f"{_json_path([*where, n])}: is required" for n in missing]
            elif error.validator == "additionalProperties" and error.validator_value is False:
                unknown = [n for n in error.instance if n not in error.schema.get("properties", {})]
                problems += [f"{_json_path([*where, n])}: is not a declared property" for n in unknown]
            else:
                problems.append(f"{_json_path(where)}: {error.message}")
        return list(dict.fromkeys(problems))

    def validate_answer(self, definition_name: str, body) -> list[str]:
        """Problems of ``body`` as easybill would answer it (read-only properties allowed); [] when valid."""
        key = definition_name + " (answer)"
        validator = self._validators.get(key)
        if validator is None:
            schema = {**self._definitions[definition_name], "definitions": self._definitions}
            validator = self._validators[key] = Draft4Validator(schema, format_checker=_FORMATS)
        return [f"{_json_path(list(e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]

    def validate_query(self, method: str, path_template: str, query: dict[str, list[str]]) -> list[str]:
        """Problems of the query string (parsed, name -> values); ``name[]`` repeats a value (easybill's arrays)."""
        declared = {p["name"]: p for p in self._parameters(method, path_template) if p["in"] == "query"}
        problems = []
        for raw_name, values in query.items():
            name = raw_name.removesuffix("[]")
            if name not in declared:
                problems.append(f"query {raw_name}: is not a parameter of {method.upper()} {path_template}")
                continue
            if len(values) > 1 and name == raw_name:
                problems.append(f"query {name}: given {len(values)} times (use a comma list or {name}[])")
            problems += [f"query {name}: {p}" for v in values for p in _param_problems(declared[name], v)]
        problems += [f"query {n}: is required" for n, p in declared.items()
                     if p.get("required") and n not in query and n + "[]" not in query]
        return problems


def _json_path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def _param_problems(param: dict, text: str) -> list[str]:
    """Problems of one query value against its parameter's type, bounds and enum (an enum takes comma lists)."""
    kind = param.get("type", "string")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            return [f"{text!r} is not an integer"]
        low, high = param.get("minimum"), param.get("maximum")
        if (low is not None and int(text) < low) or (high is not None and int(text) > high):
            return [f"{text} is out of range (minimum {low}, maximum {high})"]
        return []
    if kind == "boolean" and text not in ("true", "false"):
        return [f"{text!r} is not true or false"]
    enum = param.get("enum")
    if enum and text not in enum and not all(part in enum for part in text.split(",")):
        return [f"{text!r} is not one of {enum}"]
    if not param.get("minLength", 0) <= len(text) <= param.get("maxLength", len(text)):
        return [f"{text!r} must be {param.get('minLength', 0)} to {param.get('maxLength')} characters long"]
    return []
