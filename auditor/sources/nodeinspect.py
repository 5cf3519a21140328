"""A tolerant reader of Node's `util.inspect` text, as Double Take's logger writes its results.

Double Take logs each result object through winston, which formats it with `util.format` and so
with `util.inspect` (depth 2): JavaScript-ish text, not JSON. Keys are bare (`camera:`) or
single-quoted when they are not identifiers (`'zone-a':`); strings are single-quoted (double- or
back-quoted when they hold a single quote); objects deeper than two levels are `[Object]`,
arrays `[Array]`; long arrays end in `... 3 more items`; `undefined`, `NaN`, `Infinity` and
`123n` may stand where JSON has none. JSON5 readers (`json5`, `pyjson5`) take the quotes and
bare keys but refuse the bracket placeholders, which every result with a match holds (`box:
[Object]`: `json5` 0.9 stops with `Unexpected "O"`), and `json5` took about 3 ms per result dump
even with them replaced, against some 65 µs here; so this small reader is used instead.

`parse` never raises on odd text: it returns what it could read and whether the text was one
complete value, so a dump cut off at the end of a log still yields its camera and matches.
Placeholders become the `Placeholder` type, never guessed content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Dumps larger than this are not read (a result is a few KB; a runaway continuation is not).
MAX_CHARS = 1 << 20
_MAX_DEPTH = 64


@dataclass(frozen=True)
class Placeholder:
    """A value util.inspect did not print: `[Object]`, `[Array]`, `[Function: f]`, `[Getter]`."""

    text: str


@dataclass
class Parsed:
    """What `parse` read: the value, and whether the text held one whole value and no more."""

    value: Any
    complete: bool


_BARE = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)n?")
_WORDS = {"true": True, "false": False, "null": None, "undefined": None}
_MORE = re.compile(r"\.\.\. \d+ more items?")
_PLACEHOLDER = re.compile(
    r"\[(?:Object|Array|Circular[^\]]*|Function[^\]]*|Getter[^\]]*|Setter|class [^\]]*)\]"
)
_SPACE = re.compile(r"[ \t\r\n]*")
_SIMPLE = {q: re.compile(rf"{q}([^{q}\\]*){q}") for q in "'\"`"}
_WORD = re.compile(r"-?[A-Za-z_$][\w$.:-]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class _Cut(Exception):
    """The text ended inside a value."""


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.pos = 0

    def skip(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def peek(self) -> str:
        self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
        if self.pos >= self.n:
            raise _Cut
        return self.text[self.pos]

    def value(self, depth: int, into: list[Any]) -> Any:
        """One value; containers are appended to `into` first so a cut keeps what was read."""
        if depth > _MAX_DEPTH:
            raise ValueError("nested too deeply")
        ch = self.peek()
        if ch == "<":  # `<ref *1> { ... }`
            end = self.text.find(">", self.pos)
            if end < 0:
                raise _Cut
            self.pos = end + 1
            return self.value(depth, into)
        if ch == "{":
            obj: dict[str, Any] = {}
            into.append(obj)
            self.members(obj, depth)
            return obj
        if ch == "[":
            close = self.placeholder()
            if close is not None:
                return close
            arr: list[Any] = []
            into.append(arr)
            self.items(arr, depth)
            return arr
        if ch in "'\"`":
            return self.string()
        return self.word()

    def placeholder(self) -> Placeholder | None:
        found = _PLACEHOLDER.match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return Placeholder(found.group())

    def members(self, obj: dict[str, Any], depth: int) -> None:
        self.pos += 1
        while True:
            ch = self.peek()
            if ch == "}":
                self.pos += 1
                return
            key = self.key()
            if self.peek() != ":":
                raise ValueError(f"expected ':' after key {key!r}")
            self.pos += 1
            holder: list[Any] = []
            try:
                obj[key] = self.value(depth + 1, holder)
            except _Cut:
                if holder:
                    obj[key] = holder[0]
                raise
            self.comma("}")

    def items(self, arr: list[Any], depth: int) -> None:
        self.pos += 1
        while True:
            ch = self.peek()
            if ch == "]":
                self.pos += 1
                return
            more = _MORE.match(self.text, self.pos)
            if more is not None:
                self.pos = more.end()
            else:
                holder: list[Any] = []
                try:
                    arr.append(self.value(depth + 1, holder))
                except _Cut:
                    arr.extend(holder)
                    raise
            self.comma("]")

    def comma(self, close: str) -> None:
        ch = self.peek()
        if ch == ",":
            self.pos += 1
        elif ch != close:
            raise ValueError(f"expected ',' or {close!r}, found {ch!r}")

    def key(self) -> str:
        ch = self.peek()
        if ch in "'\"`":
            return self.string()
        if ch == "[":  # `[Symbol(x)]: ...` or `[length]: 0`
            end = self.text.find("]", self.pos)
            if end < 0:
                raise _Cut
            key = self.text[self.pos : end + 1]
            self.pos = end + 1
            return key
        m = _BARE.match(self.text, self.pos)
        if m is None:
            raise ValueError(f"unexpected {ch!r} where a key should be")
        self.pos = m.end()
        return m.group()

    def string(self) -> str:
        quote = self.text[self.pos]
        simple = _SIMPLE[quote].match(self.text, self.pos)
        if simple is not None:  # no escapes: most strings
            self.pos = simple.end()
            return simple.group(1)
        out: list[str] = []
        i, text, n = self.pos + 1, self.text, len(self.text)
        while i < n:
            ch = text[i]
            if ch == quote:
                self.pos = i + 1
                return "".join(out)
            if ch == "\\" and i + 1 < n:
                nxt = text[i + 1]
                if nxt == "x" and i + 3 < n:
                    out.append(chr(int(text[i + 2 : i + 4], 16)))
                    i += 4
                    continue
                if nxt == "u" and i + 5 < n:
                    out.append(chr(int(text[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        raise _Cut

    def word(self) -> Any:
        m = _NUMBER.match(self.text, self.pos)
        if m is not None and m.end() > self.pos:
            self.pos = m.end()
            token = m.group().rstrip("n")
            return float(token) if any(c in token for c in ".eE") else int(token)
        m = _WORD.match(self.text, self.pos)
        if m is None:
            raise ValueError(f"unexpected {self.text[self.pos]!r}")
        self.pos = m.end()
        token = m.group()
        if token in _WORDS:
            return _WORDS[token]
        if token in ("NaN", "Infinity", "-Infinity"):
            return float(token.replace("Infinity", "inf"))
        return Placeholder(token)  # a bare word (a class name, a Date): not a value we use


def parse(text: str) -> Parsed:
    """Read one util.inspect value from `text`.

    Raises ValueError for text that is not util.inspect output at all (or over MAX_CHARS); a
    value cut off by the end of the text is returned with `complete=False`.
    """
    if len(text) > MAX_CHARS:
        raise ValueError(f"dump longer than {MAX_CHARS:,} characters")
    reader = _Reader(text)
    holder: list[Any] = []
    try:
        value = reader.value(0, holder)
    except _Cut:
        if not holder:
            raise ValueError("no value before the end of the text") from None
        return Parsed(holder[0], complete=False)
    except (IndexError, ValueError) as exc:
        raise ValueError(str(exc) or "not util.inspect text") from None
    reader.skip()
    return Parsed(value, complete=reader.pos == len(text))
