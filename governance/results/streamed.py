"""Write a result as JSON a piece at a time: the same bytes as ``model_dump_json(indent=...)``.

An audit of 2,500 intersection cells holds its groups and comparisons as arrays until they are read
(``AttributeResult.with_records_later``). Writing audit.json with ``model_dump_json`` made all 250,000 records
at once and then the whole 24 MB text on top of them, so the write needed 1.8 times the memory of counting
the data. Here each attribute's records are made a piece at a time, written, and let go; every other field is
written by pydantic itself, one field at a time, and the pieces are indented to where they sit. JSON text
holds no raw line breaks inside strings, so re-indenting whole lines is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from pydantic import BaseModel

from governance.results.fairness import AttributeFields, AttributeResult, FairnessResult


def write_json(model: BaseModel, out: TextIO, *, indent: int = 2) -> None:
    """Write ``model.model_dump_json(indent=indent)`` to ``out``, byte for byte, without making an
    attribute's deferred records all at once."""
    if not _holds_later(model):
        out.write(model.model_dump_json(indent=indent))
        return
    _Writer(out, indent).model(model, 0)


def _pending(value: Any) -> dict[str, Callable[[], Any]]:
    """An attribute's record makers that have not run yet (empty for anything else)."""
    if not isinstance(value, AttributeResult) or not value.__pydantic_private__:
        return {}
    later = value.__pydantic_private__.get("_later") or {}
    return {name: maker for name, maker in later.items() if name not in value.__dict__}


def _holds_later(value: Any) -> bool:
    """Whether ``value`` is, or directly holds, an attribute (or a fairness result) with records to make."""
    if isinstance(value, AttributeResult):
        return bool(_pending(value))
    if isinstance(value, FairnessResult):
        return any(_pending(attribute) for attribute in value.attributes)
    if isinstance(value, list):
        return any(_pending(item) for item in value)
    if isinstance(value, BaseModel):
        return any(
            isinstance(item, (FairnessResult, AttributeResult)) and _holds_later(item)
            for item in value.__dict__.values()
        )
    return False


class _Writer:
    def __init__(self, out: TextIO, indent: int) -> None:
        self.out, self.indent = out, indent

    def pad(self, depth: int) -> str:
        return " " * (self.indent * depth)

    def members(self, depth: int, members: Iterable[Callable[[], None] | None]) -> None:
        """An object's members (each writes its own lines at ``depth + 1``; None: left out), in braces."""
        self.out.write("{")
        first = True
        for member in members:
            if member is None:
                continue
            self.out.write("\n" if first else ",\n")
            first = False
            member()
        self.out.write("}" if first else "\n" + self.pad(depth) + "}")

    def model(self, model: BaseModel, depth: int) -> None:
        if isinstance(model, AttributeResult):
            self.attribute(model, depth)
            return
        names = [*type(model).model_fields, *type(model).model_computed_fields]
        self.members(depth, (self.member_of(model, name, depth) for name in names))

    def member_of(self, model: BaseModel, name: str, depth: int) -> Callable[[], None] | None:
        value = getattr(model, name, None)
        if isinstance(value, list) and _holds_later(value):
            return lambda: self.list_member(name, depth, value)
        if isinstance(value, BaseModel) and _holds_later(value):
            return lambda: self.nested(name, depth, value)
        return self.dumped(model, name, depth)

    def dumped(self, model: BaseModel, name: str, depth: int) -> Callable[[], None] | None:
        """One field as pydantic writes it inside ``model`` (None when pydantic leaves it out)."""
        text = model.model_dump_json(indent=self.indent, include={name})
        if text == "{}":
            return None

        def write() -> None:
            self.out.write(_shifted(text[2:-2], self.pad(depth)))

        return write

    def nested(self, name: str, depth: int, value: BaseModel) -> None:
        self.out.write(f'{self.pad(depth + 1)}"{name}": ')
        self.model(value, depth + 1)

    def list_member(self, name: str, depth: int, items: list[Any]) -> None:
        self.out.write(f'{self.pad(depth + 1)}"{name}": ')
        if not items:
            self.out.write("[]")
            return
        self.out.write("[\n")
        for number, item in enumerate(items):
            if number:
                self.out.write(",\n")
            self.out.write(self.pad(depth + 2))
            self.model(item, depth + 2)
        self.out.write("\n" + self.pad(depth + 1) + "]")

    def attribute(self, attribute: AttributeResult, depth: int) -> None:
        """An attribute as ``AttributeFields`` writes it, its deferred records made a piece at a time."""
        pending = _pending(attribute)
        made = AttributeFields.model_construct(
            **{name: value for name, value in attribute.__dict__.items() if name not in pending}
        )
        self.members(
            depth, (self.field_of(made, pending, name, depth) for name in AttributeFields.model_fields)
        )

    def field_of(
        self, made: AttributeFields, pending: dict[str, Callable[[], Any]], name: str, depth: int
    ) -> Callable[[], None] | None:
        if name not in pending:
            return self.dumped(made, name, depth)
        return lambda: self.records(name, depth, pending[name])

    def records(self, name: str, depth: int, maker: Callable[[], Any]) -> None:
        """A deferred field: its records made and written a piece at a time when its maker offers pieces."""
        chunks = getattr(maker, "chunks", None)
        if not callable(chunks):
            member = self.dumped(AttributeFields.model_construct(**{name: maker()}), name, depth)
            if member is not None:
                member()
            return
        self.out.write(f'{self.pad(depth + 1)}"{name}": ')
        self.pieces(name, depth, chunks())

    def pieces(self, name: str, depth: int, pieces: Iterator[list[Any]]) -> None:
        """A list written from pieces of it, each dumped by pydantic as the field's value and cut out."""
        head = f'{{\n{self.pad(1)}"{name}": [\n'
        tail = f"\n{self.pad(1)}]\n}}"
        started = False
        for piece in pieces:
            if not piece:
                continue
            value: dict[str, Any] = {name: piece}
            text = AttributeFields.model_construct(**value).model_dump_json(
                indent=self.indent, include={name}
            )
            if not (text.startswith(head) and text.endswith(tail)):  # pragma: no cover - pydantic's layout
                raise RuntimeError(f"unexpected JSON layout for {name}")
            self.out.write(",\n" if started else "[\n")
            started = True
            self.out.write(_shifted(text[len(head) : -len(tail)], self.pad(depth)))
        self.out.write("\n" + self.pad(depth + 1) + "]" if started else "[]")


def _shifted(text: str, pad: str) -> str:
    """Every line of ``text`` indented by ``pad`` more."""
    return pad + text.replace("\n", "\n" + pad) if pad else text
