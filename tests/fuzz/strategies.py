"""Hypothesis strategies for the fuzz tests: JSON values, mutated records, text lines, TOML text."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

#: Values that parsers treat specially: times at the edges, frame references, huge numbers.
EDGES: list[Any] = [
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+14:00",
    "2023-05-01T10:00:00Z",
    "2023-05-01 10:00:00",
    "1683000000",
    "",
    " ",
    "\x00",
    "\u202e",
    "../../etc/passwd",
    "s3://bucket/../../x.jpg",
    "s3://",
    "/",
    "{",
    "[]",
    "null",
    "\\",
    "%s%n",
    "{principal}",
    10**40,
    -(10**40),
    2**63,
    -1,
    0,
    1.5e308,
    -0.0,
    True,
    False,
    None,
    [],
    {},
]


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN: `json.dumps` would write a non-JSON token)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.sampled_from(EDGES),
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every member of `value`, nested ones included (not `value` itself)."""
    items: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    found = []
    for key, member in items:
        found.append((*prefix, key))
        found += _paths(member, (*prefix, key))
    return found


@st.composite
def mutate(draw: st.DrawFn, value: Any) -> Any:
    """A copy of `value` with up to four members, at any depth, replaced by another JSON value
    (often one parsers treat specially), dropped, or given a sibling."""
    value = copy.deepcopy(value)
    for _ in range(draw(st.integers(0, 4))):
        paths = _paths(value)
        if not paths:
            return draw(json_values(4))
        *parent_path, key = draw(st.sampled_from(paths))
        parent = value
        for step in parent_path:
            parent = parent[step]
        what = draw(st.sampled_from(["replace", "replace", "edge", "drop", "add"]))
        if what == "drop":
            del parent[key]
        elif what == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(json_values(4))
        elif what == "edge":
            parent[key] = draw(st.sampled_from(EDGES))
        else:
            parent[key] = draw(json_values(4))
    return value


@st.composite
def text_lines(draw: st.DrawFn, samples: list[str]) -> list[str]:
    """Lines of text: random ones, sample log lines, and sample lines cut and spliced."""

    def one() -> st.SearchStrategy[str]:
        sample = st.sampled_from(samples)
        spliced = st.tuples(sample, st.integers(0, 200), st.text(max_size=20)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
        )
        return st.one_of(
            st.text(max_size=120), sample, spliced, st.sampled_from([str(e) for e in EDGES])
        )

    return draw(st.lists(one(), max_size=8))


#: TOML values to put on the right of `key =`.
def toml_values() -> st.SearchStrategy[str]:
    scalar = st.one_of(
        st.text(max_size=20).map(lambda s: json.dumps(s, ensure_ascii=False)),
        st.integers().map(str),
        st.sampled_from(
            [
                "true",
                "false",
                "1979-05-27",
                "1979-05-27T07:32:00Z",
                "07:32:00",
                "inf",
                "nan",
                "[]",
                "{}",
                '""',
                "''",
                "'''x'''",
                '["a", 1]',
                "{ a = 1 }",
                '"{principal:>9}"',
                '"{operation:>{x}}"',
                '"(?P<operation>(a+)+)$"',
                '"*"',
                '"../x"',
                '"unknown"',
            ]
        ),
    )
    return st.one_of(scalar, st.lists(scalar, max_size=3).map(lambda v: "[" + ", ".join(v) + "]"))


@st.composite
def mutated_toml(draw: st.DrawFn, text: str) -> str:
    """`text` with a few lines dropped, duplicated, given new values, or replaced by noise
    (few, so that most results still parse and reach the loader's own checks)."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        what = draw(st.sampled_from(["drop", "dup", "value", "value", "noise"]))
        if what == "drop":
            del lines[at]
        elif what == "dup":
            lines.insert(at, line)
        elif what == "value" and "=" in line and not line.lstrip().startswith("#"):
            lines[at] = line.split("=", 1)[0] + "= " + draw(toml_values())
        elif what == "noise":
            lines.insert(
                at,
                draw(
                    st.one_of(
                        st.text(max_size=40),
                        st.sampled_from(
                            [
                                "[",
                                "[[principal]]",
                                "[pack]",
                                "[[rules]]",
                                "[[sources]]",
                                "[[text]]",
                                "[[jsonl]]",
                                "[frames]",
                                "x = ",
                                "= 1",
                            ]
                        ),
                        st.tuples(
                            st.from_regex(r"[a-z_]{1,10}", fullmatch=True), toml_values()
                        ).map(lambda t: f"{t[0]} = {t[1]}"),
                    )
                ),
            )
    return "\n".join(lines) + "\n"
