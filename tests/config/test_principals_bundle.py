"""principals.toml attribution, audit.toml validation and the bundle's path gate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.config import principals
from auditor.config.bundle import PathEscape, safe_relpath
from auditor.core.errors import ConfigError
from auditor.core.models import Principal
from auditor.sources import open_bundle


def directory(tmp_path: Path, text: str) -> principals.Directory:
    path = tmp_path / "principals.toml"
    path.write_text(text)
    return principals.load(path, "principals.toml")


def test_arn_glob_crosses_slash_and_colon_and_first_match_wins(tmp_path: Path) -> None:
    d = directory(
        tmp_path,
        """
[[principal]]
arn = "arn:aws:iam::111122223333:role/pd-special"
organisation = "Special Unit"
category = "federal_law_enforcement"

[[principal]]
arn = "arn:aws:*:111122223333:*pd-*"
organisation = "Metro Police"
category = "police"

[[principal]]
account = "444455556666"
organisation = "Sheriff"
category = "police"

[[principal]]
name = "parks"
organisation = "Parks"
category = "city_department"
""",
    )
    role = Principal(
        "x",
        arns=(
            "arn:aws:sts::111122223333:assumed-role/pd-special/jane",
            "arn:aws:iam::111122223333:role/pd-special",
        ),
    )
    assert d.resolve(role).organisation == "Special Unit"
    other = Principal("x", arns=("arn:aws:sts::111122223333:assumed-role/pd-search/j",))
    assert (d.resolve(other).organisation, d.resolve(other).category) == ("Metro Police", "police")
    assert (
        d.resolve(Principal("account:444455556666", account="444455556666")).organisation
        == "Sheriff"
    )
    assert d.resolve(Principal("parks")).category == "city_department"
    unknown = d.resolve(Principal("nobody"))
    assert (unknown.organisation, unknown.category, unknown.matched) == (
        "unknown",
        "unknown",
        False,
    )
    assert d.resolve(Principal("PARKS")).matched is False  # names are exact


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (
            '[[principal]]\narn = "a"\naccount = "1"\norganisation = "o"\ncategory = "police"\n',
            1,
            "exactly one of arn, account, name or address",
        ),
        (
            '[[principal]]\nname = "a"\norganisation = "o"\ncategory = "polise"\n',
            4,
            "unknown category",
        ),
        ('[[principal]]\nname = "a"\ncategory = "police"\n', 1, "missing organisation"),
        (
            '[[principal]]\nname = "a"\norganisation = "o"\ncategory = "police"\ncolour = "blue"\n',
            5,
            "unknown key 'colour'",
        ),
        (
            '[[principal]]\nname = "a"\norganisation = "o"\ncategory = "police"\n\n[[principal]]\n'
            'name = ""\norganisation = "o"\ncategory = "police"\n',
            7,
            "must be a non-empty string",
        ),
        ('[[principal]\nname = "a"\n', 1, "invalid TOML"),
    ],
)
def test_principals_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    with pytest.raises(ConfigError) as err:
        directory(tmp_path, text)
    assert str(err.value).startswith(f"principals.toml:{line}")
    assert needle in str(err.value)


def test_safe_relpath(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "frames").mkdir()
    assert safe_relpath(root, "frames/./a/../b.jpg") == "frames/b.jpg"
    for bad in [
        "../x.jpg",
        "frames/../../x.jpg",
        "/etc/passwd",
        "C:\\x.jpg",
        "s3://b/k",
        "",
        "a\x00b",
    ]:
        with pytest.raises(PathEscape):
            safe_relpath(root, bad)
    outside = tmp_path.parent / f"outside-{os.getpid()}.jpg"
    outside.write_text("x")
    try:
        (root / "frames" / "link.jpg").symlink_to(outside)
        with pytest.raises(PathEscape, match="symlink"):
            safe_relpath(root, "frames/link.jpg")
    finally:
        outside.unlink()


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ('timezone = "Mars/Olympus"\n', 1, "unknown timezone"),
        ('name = "x"\nframe = 3\n', 2, "unknown setting 'frame'"),
        ('[[text]]\nglob = "*"\npattern = "(?P<time>x"\n', 3, "bad regular expression"),
        ('[[text]]\npattern = "(?P<time>\\\\S+)"\n', 2, "lacks named groups: operation"),
        ('[[jsonl]]\nglob = "*"\n[jsonl.fields]\n"When" = "ts"\n', 4, "bad field name 'When'"),
        ('[frames]\n"s3://b/" = 1\n', 2, "frame folder must be a string"),
    ],
)
def test_audit_toml_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    (tmp_path / "audit.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        open_bundle(tmp_path)
    assert str(err.value).startswith(f"audit.toml:{line}")
    assert needle in str(err.value)
