"""`on_behalf_of`: rules that bind a category bind those acting for it (principals.toml or logs)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.config import principals
from auditor.core.errors import ConfigError
from auditor.core.models import Event, OperationKind, Principal
from auditor.policy import evaluate, resolve
from auditor.policy.loader import load_pack

WHEN = datetime(2021, 3, 4, 10, 0, tzinfo=UTC)

DIRECTORY = """
[[principal]]
name = "pd-analyst"
organisation = "Metro Police"
category = "police"

[[principal]]
name = "acme"
organisation = "Acme Analytics"
category = "private_entity"
on_behalf_of = "metro police"

[[principal]]
name = "acme-county"
organisation = "Acme Analytics"
category = "private_entity"
on_behalf_of = "County Records Office"
on_behalf_of_category = "state_local_agency"

[[principal]]
name = "shop"
organisation = "ShopCo"
category = "private_entity"
"""


def directory(tmp_path: Path, text: str = DIRECTORY) -> principals.Directory:
    path = tmp_path / "principals.toml"
    path.write_text(text)
    return principals.load(path, "principals.toml")


def search(who: str, **attrs: str) -> Event:
    return Event(
        source="jsonl",
        file="logs/x.jsonl",
        time=WHEN,
        service="rekognition",
        operation="SearchFacesByImage",
        kind=OperationKind.IDENTIFICATION_1TON,
        principal=Principal(who),
        line=1,
        event_id="e1",
        attributes=tuple(sorted(attrs.items())),
    )


def test_category_comes_from_the_organisations_own_entry_or_is_declared(tmp_path: Path) -> None:
    d = directory(tmp_path)
    acme = d.attribute(search("acme"))
    assert acme.principal.category == "private_entity"
    assert acme.attr("on_behalf_of") == "metro police"
    assert acme.attr("on_behalf_of_category") == "police"
    county = d.attribute(search("acme-county"))
    assert county.attr("on_behalf_of_category") == "state_local_agency"
    assert d.attribute(search("shop")).attr("on_behalf_of_category") is None


def test_the_log_record_wins_over_the_directory(tmp_path: Path) -> None:
    d = directory(tmp_path)
    e = d.attribute(search("acme", on_behalf_of="ShopCo", on_behalf_of_category="private_entity"))
    assert (e.attr("on_behalf_of"), e.attr("on_behalf_of_category")) == ("ShopCo", "private_entity")
    # a record naming only the organisation: the category of that organisation's own entry,
    # never the one the principal's entry declares for another organisation
    e = d.attribute(search("acme", on_behalf_of="shopco"))
    assert (e.attr("on_behalf_of"), e.attr("on_behalf_of_category")) == ("shopco", "private_entity")
    e = d.attribute(search("acme", on_behalf_of="Unlisted Org"))
    assert e.attr("on_behalf_of_category") is None
    e = d.attribute(search("shop", on_behalf_of="Metro Police"))
    assert e.attr("on_behalf_of_category") == "police"


@pytest.mark.parametrize(
    ("entry", "line", "needle"),
    [
        ('on_behalf_of = "Nobody Known"', 5, "names no organisation of another entry"),
        ('on_behalf_of = "X"\non_behalf_of_category = "polise"', 6, "unknown category 'polise'"),
        ('on_behalf_of_category = "police"', 5, "needs on_behalf_of"),
        ('on_behalf_of = ""', 5, "must be a non-empty string"),
        ('on_behalf_of = "X"\nacting = 1', 6, "unknown key 'acting'"),
    ],
)
def test_bad_entries_name_file_and_line(tmp_path: Path, entry: str, line: int, needle: str) -> None:
    text = f'[[principal]]\nname = "a"\norganisation = "o"\ncategory = "vendor"\n{entry}\n'
    with pytest.raises(ConfigError) as err:
        directory(tmp_path, text)
    assert needle in str(err.value)
    assert err.value.location is not None
    assert (err.value.location.file, err.value.location.line) == ("principals.toml", line)


def test_a_rule_binding_police_binds_its_contractor(tmp_path: Path) -> None:
    d = directory(tmp_path)
    events = [d.attribute(search(who)) for who in ("acme", "acme-county", "shop")]
    found = evaluate(events, resolve(["amazon-rekognition-police-2020"])).findings
    assert [f.events[0].principal.id for f in found] == ["acme"]
    assert found[0].message.endswith("(acting for metro police, police)")
    # the same contractor acting for a shop, as its log record says: not police use
    shopping = d.attribute(
        search("acme", on_behalf_of="ShopCo", on_behalf_of_category="private_entity")
    )
    assert not evaluate([shopping], resolve(["amazon-rekognition-police-2020"])).findings


PACK = """
[pack]
id = "acting-test"
title = "t"
version = "1.0.0"
[pack.effective]
from = 2020-01-01
[[pack.sources]]
id = "s"
title = "s"
confidence = "P"

[[rules]]
id = "R1"
severity = "high"
title = "t"
message = "m"
principals = ["private_entity"]
operations = ["identification_1toN"]

[[rules.exceptions]]
id = "government-contractor"
on_behalf_of = ["state_local_agency", "police"]
"""


def test_exception_for_those_acting_for_a_category(tmp_path: Path) -> None:
    path = tmp_path / "acting-test.toml"
    path.write_text(PACK)
    pack = load_pack(path)
    d = directory(tmp_path)
    events = [d.attribute(search(who)) for who in ("acme", "acme-county", "shop")]
    result = evaluate(events, [pack])
    assert [f.events[0].principal.id for f in result.findings] == ["shop"]
    assert sorted(e[3].principal.id for e in result.excused) == ["acme", "acme-county"]
    path.write_text(PACK.replace('["state_local_agency", "police"]', '["polise"]'))
    with pytest.raises(ConfigError, match="unknown principal category 'polise'"):
        load_pack(path)


def test_sigma_export_inlines_those_acting_for_police(tmp_path: Path) -> None:
    from auditor.policy.sigma import export_sigma, read_principals

    path = tmp_path / "principals.toml"
    path.write_text("""
[[principal]]
arn = "arn:aws:iam::111122223333:role/metro-pd-*"
organisation = "Metro Police"
category = "police"

[[principal]]
arn = "arn:aws:iam::555566667777:role/acme-*"
organisation = "Acme Analytics"
category = "private_entity"
on_behalf_of = "Metro Police"

[[principal]]
arn = "arn:aws:iam::888899990000:role/shop-*"
organisation = "ShopCo"
category = "private_entity"
""")
    entries = read_principals(path, "principals.toml")
    assert [e.acting_for for e in entries] == [None, "police", None]
    (rule,), notes = export_sigma(resolve(["amazon-rekognition-police-2020"])[0], entries)
    assert not notes
    assert "role/acme-" in rule.text and "role/metro-pd-" in rule.text
    assert "role/shop-" not in rule.text
