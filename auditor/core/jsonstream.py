"""Reports larger than memory: lazy lists in the report dict, and a JSON writer that streams them.

The report dict keeps its shape (`auditor.report/v1`), but its `findings` may be a `Lazy`: a
sized, re-iterable sequence whose items are produced on demand (from the audit's spill files or
from the store). Reporters that iterate it keep working unchanged; `write_json` writes such a
document item by item, producing exactly the bytes `json.dumps(doc, indent=2, sort_keys=True,
ensure_ascii=False)` would give for the same data held in lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO


class Lazy:
    """A sized sequence produced anew on each iteration (never held whole in memory)."""

    def __init__(self, factory: Callable[[], Iterable[Any]], length: int) -> None:
        self._factory = factory
        self._length = length

    def __iter__(self) -> Iterator[Any]:
        return iter(self._factory())

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __eq__(self, other: object) -> bool:
        """Equal to a list (or another Lazy) with the same items in the same order."""
        if isinstance(other, Lazy | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def _contains_lazy(value: Any) -> bool:
    if isinstance(value, Lazy):
        return True
    if isinstance(value, dict):
        return any(_contains_lazy(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_lazy(v) for v in value)
    return False


def _dump(value: Any, level: int) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * level) if level else text


def _emit(value: Any, level: int, out: TextIO) -> None:
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(value, dict) and _contains_lazy(value):
        if not value:
            out.write("{}")
            return
        out.write("{")
        for i, key in enumerate(sorted(value)):
            out.write(
                ("," if i else "") + "\n" + inner + json.dumps(key, ensure_ascii=False) + ": "
            )
            _emit(value[key], level + 1, out)
        out.write("\n" + pad + "}")
    elif isinstance(value, Lazy) or (isinstance(value, list) and _contains_lazy(value)):
        first = True
        for item in value:
            out.write(("[" if first else ",") + "\n" + inner)
            first = False
            if isinstance(value, Lazy) and not _contains_lazy(item):
                out.write(_dump(item, level + 1))
            else:
                _emit(item, level + 1, out)
        out.write("[]" if first else "\n" + pad + "]")
    else:
        out.write(_dump(value, level))


def write_json(doc: Any, out: TextIO) -> None:
    """Write `doc` as sorted, two-space indented JSON followed by a newline, streaming lazies."""
    _emit(doc, 0, out)
    out.write("\n")
