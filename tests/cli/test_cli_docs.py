"""Every command and option has help, and README's synopsis names each one (the
sqlite-utils habit: documentation that cannot fall behind the code)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main

from auditor.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
_SYNOPSIS = README.split("## Command line", 1)[1].split("```", 2)[1]


def _commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, cmd: Any) -> None:
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click classes)
            for name, sub in sorted(cmd.commands.items()):
                walk(f"{prefix} {name}".strip(), sub)
        else:
            out.append((prefix, cmd))

    walk("", root)
    return out


COMMANDS = _commands()


def _is_option(param: Any) -> bool:
    return bool(param.param_type_name == "option" and not getattr(param, "hidden", False))


def test_the_tree_is_walked() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"audit", "faces", "policy list", "baseline create", "verify", "export"} <= names


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_and_option_has_help(name: str, cmd: Any) -> None:
    assert (cmd.help or "").strip(), f"auditor {name}: no help text"
    for param in cmd.params:
        if _is_option(param):
            assert (param.help or "").strip(), f"auditor {name} {param.opts[0]}: no help text"


def _synopsis_of(name: str) -> str:
    """The README synopsis lines of `auditor NAME` (its line and the indented ones after it;
    `auditor policy list | show ID | ...` names several subcommands of one group)."""
    group, _, sub = name.partition(" ")
    blocks: list[str] = []
    current: list[str] | None = None
    for line in _SYNOPSIS.splitlines():
        if line.startswith("auditor "):
            current = [line]
            blocks.append("")
        elif current is not None and line.startswith(" "):
            current.append(line)
        if current is not None and blocks:
            blocks[-1] = "\n".join(current)
    for block in blocks:
        head = block.split()
        if len(head) > 1 and head[1] == group and (not sub or re.search(rf"\b{sub}\b", block)):
            return block
    return ""


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_readme_synopsis_names_every_command_and_option(name: str, cmd: Any) -> None:
    block = _synopsis_of(name)
    assert block, f"README's synopsis lacks `auditor {name}`"
    for param in cmd.params:
        if _is_option(param):
            longs = [o for o in param.opts if o.startswith("--")]
            assert any(re.search(rf"{re.escape(o)}\b", block) for o in longs), (
                f"README's synopsis of `auditor {name}` lacks {longs[0] if longs else param.opts}"
            )
