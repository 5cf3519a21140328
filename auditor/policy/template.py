"""Rule title/message templates: `{field}` placeholders and nothing more.

Templates come from pack files, which are input. `str.format` would give them format specs
(`{principal:>999999999}` allocates a gigabyte), conversions (`{x!r}`), attribute and index
access (`{a.b}`, `{a[0]}`) and nested fields, any of which can crash or exhaust an audit. So the
grammar is deliberately tiny: `{name}` with a known name, `{{` and `}}` for literal braces.
`problems` is what the pack loader reports (a pack that lints clean renders); `render` is plain
substitution that never raises, whatever the template, as a second line of defence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# One token at a time: an escaped brace, a placeholder `{...}` (anything up to the first
# closing brace, checked below), or a stray brace.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def problems(template: str, known: Iterable[str]) -> list[str]:
    """Every reason `template` is not a plain `{field}` template over `known` names."""
    names = frozenset(known)
    found: list[str] = []
    for match in _TOKEN.finditer(template):
        token, inner = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            continue
        if inner is None:
            found.append(
                f"bad template: unmatched {token!r} at character {match.start() + 1} "
                "(write {{ or }} for a literal brace)"
            )
        elif not _NAME.match(inner):
            found.append(
                f"bad template: {token!r} is not a plain {{field}} placeholder "
                "(no format specs, conversions, attributes, indexes or nesting)"
            )
        elif inner not in names:
            found.append(f"unknown placeholder {token} (known: {', '.join(sorted(names))})")
    # "{a{b}" would match the stray "{" then "{b}": the stray brace is already reported.
    return list(dict.fromkeys(found))


def render(template: str, values: Mapping[str, object]) -> str:
    """`template` with each `{name}` in `values` replaced; anything else is kept as written."""

    def one(match: re.Match[str]) -> str:
        token, inner = match.group(0), match.group(1)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if inner is not None and inner in values:
            return str(values[inner])
        return token

    return _TOKEN.sub(one, template)
