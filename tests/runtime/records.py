"""Strict parsing of the tools' --json output and validation against the
schemas in docs/schema (python3-jsonschema, draft 2020-12)."""

import base64
import json
import os
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("SNOOPKIT_SOURCE_DIR", Path(__file__).resolve().parent.parent.parent))
SCHEMA_DIR = SOURCE_DIR / "docs" / "schema"


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def _check_values(value, where):
    if isinstance(value, float):
        raise ValueError(f"{where}: a non-integer number {value!r}")
    if isinstance(value, str):
        value.encode("utf-8")  # lone surrogates from \ud800 escapes raise here
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_values(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_values(item, f"{where}.{key}")


def _lines(data):
    """The lines of bytes or of a binary file, each without its newline; the
    last must have had one."""
    if isinstance(data, (bytes, bytearray)):
        if data and not data.endswith(b"\n"):
            raise AssertionError(f"output does not end with a newline: ...{data[-200:]!r}")
        start = 0
        while start < len(data):
            end = data.index(b"\n", start)
            yield bytes(data[start:end])
            start = end + 1
        return
    for raw in data:
        if not raw.endswith(b"\n"):
            raise AssertionError(f"output does not end with a newline: ...{raw[-200:]!r}")
        yield raw[:-1]


def iter_json_lines(data):
    """Yields the records of tool stdout (bytes, or a binary file) one at a
    time, checked as parse_json_lines checks them; a storm's millions of
    records are counted this way without holding them all."""
    for n, raw in enumerate(_lines(data), 1):
        try:
            text = raw.decode("utf-8", errors="strict")
            obj = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            if next(iter(obj), None) != "type":
                raise ValueError('"type" is not the first key')
            _check_values(obj, "record")
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError(f"stdout line {n} is not a strict JSON record ({e}): {raw[:300]!r}")
        yield obj


def parse_json_lines(data):
    """Decodes tool stdout (bytes) as JSON lines, strictly: every line valid
    UTF-8, one object per line, no NaN/Infinity, no duplicate keys, no lone
    surrogates, no floats, "type" the first key, and a final newline."""
    return list(iter_json_lines(data))


_validators = None


def validators():
    """Draft 2020-12 validators for docs/schema/<type>.v1.json, by record type."""
    global _validators
    if _validators is None:
        import jsonschema
        _validators = {}
        for path in sorted(SCHEMA_DIR.glob("*.v1.json")):
            schema = json.loads(path.read_text())
            jsonschema.Draft202012Validator.check_schema(schema)
            _validators[path.name.split(".")[0]] = jsonschema.Draft202012Validator(schema)
    return _validators


def validate_record(rec):
    """Fails unless rec matches the schema of its type (and its _b64 twins agree)."""
    v = validators().get(rec.get("type"))
    if v is None:
        raise AssertionError(f"record of unknown type: {rec}")
    errors = sorted(v.iter_errors(rec), key=lambda e: list(e.path))
    if errors:
        raise AssertionError(f"record fails {rec['type']}.v1.json: {errors[0].message} "
                             f"at {list(errors[0].path)}: {rec}")
    for key in list(rec):
        if key.endswith("_b64"):
            base = key[:-4]
            if isinstance(rec[key], list):
                decode_bytes_list(rec, base)
            else:
                decode_bytes(rec, base)


def _is_utf8(raw):
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def decode_bytes(rec, key):
    """The exact bytes of string field key: from "<key>_b64" when present (and
    then checked against the U+FFFD rendering of key), else key as UTF-8."""
    if key + "_b64" not in rec:
        return rec[key].encode("utf-8")
    raw = base64.b64decode(rec[key + "_b64"], validate=True)
    if raw.decode("utf-8", "replace") != rec[key]:
        raise AssertionError(f"{key!r} is not the U+FFFD rendering of {key}_b64: {rec}")
    if _is_utf8(raw):
        raise AssertionError(f"{key}_b64 present although {key!r} is valid UTF-8: {rec}")
    return raw


def decode_bytes_list(rec, key):
    """The exact bytes of each item of list field key (see decode_bytes)."""
    if key + "_b64" not in rec:
        return [s.encode("utf-8") for s in rec[key]]
    b64 = rec[key + "_b64"]
    if len(b64) != len(rec[key]):
        raise AssertionError(f"{key}_b64 has {len(b64)} items, {key} has {len(rec[key])}: {rec}")
    items = [base64.b64decode(s, validate=True) for s in b64]
    for raw, text in zip(items, rec[key]):
        if raw.decode("utf-8", "replace") != text:
            raise AssertionError(f"{key} item {text!r} is not the U+FFFD rendering of {raw!r}")
    if all(_is_utf8(raw) for raw in items):
        raise AssertionError(f"{key}_b64 present although every item is valid UTF-8: {rec}")
    return items

