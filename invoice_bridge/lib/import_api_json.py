"""Decoding a request body: UTF-8 JSON, numbers as Decimal, and a syntax error located where a person sees it.

When the parser stops at the end of the input with brackets still open (a missing ``}`` in pretty-printed
JSON), the error points at the line where the closing bracket is missing, not at the end of the body.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .import_api_messages import PayloadError


class _NonFinite:
    """What ``NaN``/``Infinity``/``-Infinity`` decode to: never a valid value of any field."""

    def __init__(self, literal):
        self.literal = literal

    def __repr__(self):
        return self.literal


def _line_col(text, pos):
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _indent(text, pos):
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:text.find("\n", pos) if text.find("\n", pos) != -1 else len(text)]
    return len(line) - len(line.lstrip(" \t")), start


def _brackets(text, end):
    """Lexical bracket pairs of ``text[:end]``: ``(pairs, unclosed)``, each ``(open_pos, close_pos, key)``."""
    stack, pairs = [], []
    last_string, colon, pos = None, False, 0
    while pos < end:
        char = text[pos]
        if char == '"':
            close = pos + 1
            while close < end and text[close] != '"':
                close += 2 if text[close] == "\\" else 1
            last_string, colon, pos = text[pos + 1:close], False, close + 1
            continue
        if char == ":":
            colon = True
        elif char in "{[":
            stack.append((pos, last_string if colon else None))
            last_string, colon = None, False
        elif char in "}]" and stack:
            open_pos, key = stack.pop()
            pairs.append((open_pos, pos, key))
        elif char not in " \t\r\n":
            last_string, colon = None, False
        pos += 1
    return pairs, [(open_pos, None, key) for open_pos, key in stack]


def _describe_json_error(text, exc):
    where = f"line {exc.lineno}, column {exc.colno}"
    if text[exc.pos:].strip(" \t\r\n"):
        return f"Invalid JSON at {where}: {exc.msg}."
    # The parser reached the end of the input with brackets still open: in pretty-printed JSON, a bracket whose
    # closing bracket is not indented like its opening line shows where a closing bracket is missing.
    pairs, unclosed = _brackets(text, exc.pos)
    for open_pos, close_pos, key in sorted(pairs):
        open_indent, open_start = _indent(text, open_pos)
        close_indent, close_start = _indent(text, close_pos)
        if open_start == close_start or close_indent == open_indent:
            continue
        line_start = text.find("\n", open_pos) + 1
        while 0 < line_start < close_start:
            line_end = text.find("\n", line_start)
            line = text[line_start:line_end]
            stripped = line.lstrip(" \t")
            if stripped and len(line) - len(stripped) <= open_indent:
                kind = "object" if text[open_pos] == "{" else "array"
                closer = "}" if kind == "object" else "]"
                line_no, col = _line_col(text, line_start + len(line) - len(stripped))
                opened = "line {}, column {}".format(*_line_col(text, open_pos))
                named = f" (\"{key}\")" if key else ""
                return (f"Invalid JSON at line {line_no}, column {col}: '{closer}' expected here to close the "
                        f"{kind} opened at {opened}{named} (the parser stopped at the end of the input, "
                        f"{where}: {exc.msg}).")
            line_start = line_end + 1
    if unclosed:
        open_pos, _close, key = unclosed[-1]
        kind = "object" if text[open_pos] == "{" else "array"
        opened = "line {}, column {}".format(*_line_col(text, open_pos))
        named = f" (\"{key}\")" if key else ""
        return f"Invalid JSON at {where}: {exc.msg} (end of input: the {kind} opened at {opened}{named} is not closed)."
    return f"Invalid JSON at {where}: {exc.msg}."


class DuplicateKey(ValueError):
    def __init__(self, key):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs):
    """A JSON object's pairs as a dict; a key sent twice is an error (``json`` would keep the last one)."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKey(key)
        obj[key] = value
    return obj


def load_json(body: bytes | str) -> Any:
    """Decode a request body (UTF-8 JSON, numbers as :class:`Decimal`), or raise :class:`PayloadError` (``body``)."""
    if isinstance(body, str):
        text = body
    else:
        raw = bytes(body)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError({"body": [
                f"The request body is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}): "
                "send the JSON encoded in UTF-8."]}) from None
    text = text.removeprefix("\ufeff")
    if not text.strip(" \t\r\n"):
        raise PayloadError({"body": ["The request body is empty: send a JSON object."]})
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_NonFinite,
                          object_pairs_hook=_unique_keys)
    except DuplicateKey as exc:
        raise PayloadError({"body": [f"Duplicate key \"{exc.key}\" in one JSON object: send each key once "
                                     "(which one counts is not defined by JSON)."]}) from None
    except json.JSONDecodeError as exc:
        raise PayloadError({"body": [_describe_json_error(text, exc)]}) from None
    except RecursionError:
        raise PayloadError({"body": ["Invalid JSON: nested too deeply."]}) from None
