"""The one YAML reader: safe, and strict about duplicated keys.

Plain ``yaml.safe_load`` keeps the last of two equal keys without a word, so a policy whose rule says
``severity: block`` and, three lines below, ``severity: warn`` silently becomes a warning. Every file the
toolkit reads (policies, presets, ``governance.yaml``, checklists, policy templates) goes through
:func:`load_yaml`, which refuses such a file with the key and both lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from governance.errors import InputError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(InputError):
    """A YAML mapping gives the same key twice, so one of the two values would be silently dropped."""

    def __init__(self, message: str, *, key: str, first_line: int, second_line: int) -> None:
        super().__init__(message)
        self.key = key
        self.first_line = first_line
        self.second_line = second_line


class _DuplicateKey(yaml.YAMLError):
    """Raised inside the loader; :func:`load_yaml` turns it into a :class:`DuplicateKeyError` naming the file."""

    def __init__(self, key: str, first_line: int, second_line: int) -> None:
        super().__init__(f"duplicate key {key!r} at lines {first_line} and {second_line}")
        self.key, self.first_line, self.second_line = key, first_line, second_line


def _refuse_duplicate_keys(loader: yaml.constructor.SafeConstructor, node: yaml.MappingNode) -> None:
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            if key in seen:
                raise _DuplicateKey(str(key), seen[key], line)
            seen[key] = line
        except TypeError:  # an unhashable key; SafeLoader reports it itself
            continue


class StrictSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping holding the same key twice (merge keys ``<<`` excepted)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _refuse_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)


_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)  # libyaml's parser, when PyYAML was built with it


class _FastStrictSafeLoader(_CSafeLoader or yaml.SafeLoader):  # type: ignore[misc]
    """The same with libyaml's parser, five to ten times faster (the checklists are thousands of lines)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _refuse_duplicate_keys(self, node)
        return dict(super().construct_mapping(node, deep=deep))


def read_utf8(
    path: str | Path, *, error: type[InputError] = InputError, unreadable: str | None = None
) -> str:
    """A text file the toolkit reads (YAML, a template), with one sentence when it is not UTF-8.

    Spreadsheet and Windows editors often save in Latin-1 or UTF-16; Python would stop with a traceback.
    A file that cannot be read raises ``error(unreadable)`` (``{path}`` and ``{reason}`` filled in), so that
    each caller words it for its own kind of file; without ``unreadable``, ``OSError`` is left to the caller.
    """
    file_path = Path(path)
    try:
        raw = file_path.read_bytes()
    except OSError as exc:
        if unreadable is None:
            raise
        raise error(unreadable.format(path=path, reason=exc.strerror)) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{file_path} is not saved as UTF-8 (the byte 0x{raw[exc.start]:02x} on line {line} is not UTF-8 text); "
            "open it in your editor and save it as UTF-8."
        ) from None


def yaml_error_line(exc: yaml.YAMLError, *, line_offset: int = 0) -> int | None:
    """The 1-based line a YAML syntax error points at (plus ``line_offset``), or None when it names none."""
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 + line_offset if mark is not None else None


def at_line(line: int | None) -> str:
    """`` at line N`` for a message, or nothing when the line is not known."""
    return f" at line {line}" if line is not None else ""


def load_yaml(text: str, *, source: str, line_offset: int = 0) -> Any:
    """Parse YAML ``text`` safely; a duplicated key raises :class:`DuplicateKeyError` naming ``source``.

    ``line_offset`` is added to line numbers, for YAML that starts below the top of its file (front matter).
    Syntax errors stay ``yaml.YAMLError`` so that each caller words them for its own kind of file.
    """
    try:
        try:
            return yaml.load(text, Loader=_FastStrictSafeLoader)  # SafeLoader's constructor: safe
        except yaml.YAMLError:
            pass  # read again below, so that every problem is worded as the pure-Python reader words it
        return yaml.load(text, Loader=StrictSafeLoader)  # a SafeLoader subclass: safe
    except _DuplicateKey as duplicate:
        first, second = duplicate.first_line + line_offset, duplicate.second_line + line_offset
        raise DuplicateKeyError(
            f"{source}: the key '{duplicate.key}' is given twice (lines {first} and {second}), and YAML would "
            "silently keep only the last; delete the one you do not mean.",
            key=duplicate.key,
            first_line=first,
            second_line=second,
        ) from None
