"""principals.toml `address` entries: CIDR ranges (IPv4, IPv6) for access-log clients."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.config import principals
from auditor.core.errors import ConfigError
from auditor.core.models import Principal
from tests.conftest import make_bundle
from tests.logsamples import SAMPLES

ENTRIES = """
[[principal]]
name = "analyst7"
organisation = "Analyst Unit"
category = "police"

[[principal]]
address = "10.20.0.0/16"
organisation = "Metro City Police Department"
category = "police"

[[principal]]
address = "2001:db8::/32"
organisation = "Harbor County Sheriff's Office"
category = "police"

[[principal]]
address = "192.168.7.40"
organisation = "Shop Co"
category = "private_entity"

[[principal]]
address = "::ffff:10.30.0.0/112"
organisation = "Mapped Range Unit"
category = "police"
"""


def directory(tmp_path: Path, text: str) -> principals.Directory:
    path = tmp_path / "principals.toml"
    path.write_text(text)
    return principals.load(path, "principals.toml")


@pytest.mark.parametrize(
    ("principal", "organisation"),
    [
        (Principal("10.20.0.15", address="10.20.0.15"), "Metro City Police Department"),
        (Principal("10.20.255.1", address="10.20.255.1"), "Metro City Police Department"),
        (Principal("x", address="::ffff:10.20.1.1"), "Metro City Police Department"),
        (Principal("2001:db8::17", address="2001:db8::17"), "Harbor County Sheriff's Office"),
        (Principal("x", address="[2001:db8::1]"), "Harbor County Sheriff's Office"),
        (Principal("192.168.7.40", address="192.168.7.40"), "Shop Co"),
        # an authenticated user: the name entry comes first in the file, so it wins
        (Principal("analyst7", address="10.20.0.16"), "Analyst Unit"),
        (Principal("10.21.0.1", address="10.21.0.1"), "unknown"),
        (Principal("192.168.7.41", address="192.168.7.41"), "unknown"),
        (Principal("x", address="10.0.0.XXX"), "unknown"),  # masked addresses never match
        # a port after the address (proxies, uvicorn) is not part of it
        (Principal("x", address="10.20.0.15:41342"), "Metro City Police Department"),
        (Principal("x", address="[2001:db8::5]:41342"), "Harbor County Sheriff's Office"),
        (Principal("x", address="10.21.0.1:41342"), "unknown"),
        # an IPv4-mapped range entry matches the IPv4 addresses it maps, written either way
        (Principal("x", address="10.30.0.7"), "Mapped Range Unit"),
        (Principal("x", address="::ffff:10.30.0.8"), "Mapped Range Unit"),
        (Principal("x", address="10.31.0.7"), "unknown"),
        (Principal("10.20.0.15"), "unknown"),  # no address from the log: address entries skip it
    ],
)
def test_address_entries_match_cidr_ranges(
    tmp_path: Path, principal: Principal, organisation: str
) -> None:
    assert directory(tmp_path, ENTRIES).resolve(principal).organisation == organisation


def test_ipv4_does_not_match_an_ipv6_range_of_the_same_bits(tmp_path: Path) -> None:
    d = directory(
        tmp_path, '[[principal]]\naddress = "::/0"\norganisation = "Any v6"\ncategory = "other"\n'
    )
    assert d.resolve(Principal("x", address="10.0.0.1")).matched is False
    assert d.resolve(Principal("x", address="fe80::1")).matched is True


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            '[[principal]]\naddress = "10.0.0.0/33"\norganisation = "o"\ncategory = "police"\n',
            "not an IP address or CIDR range",
        ),
        (
            '[[principal]]\naddress = "pd.example.org"\norganisation = "o"\ncategory = "police"\n',
            "not an IP address or CIDR range",
        ),
        (
            '[[principal]]\naddress = "10.0.0.0/8"\nname = "x"\norganisation = "o"\n'
            'category = "police"\n',
            "exactly one of arn, account, name or address",
        ),
    ],
)
def test_bad_address_entries_are_config_errors(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        directory(tmp_path, text)
    assert str(err.value).startswith("principals.toml:") and needle in str(err.value)


def test_access_log_attributed_by_address_through_the_cli(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    bundle = make_bundle(
        tmp_path / "b",
        {"logs/proxy/access.log": (SAMPLES / "nginx/access.log").read_bytes()},
        principals=ENTRIES,
    )
    out = tmp_path / "r.json"
    result = cli(
        "audit",
        bundle,
        "--format",
        "json",
        "--output",
        out,
        "--db",
        db_url,
        "--no-frames",
        "--policy",
        "all",
    )
    assert result.exit_code == 3, result.output  # line 8 is not an access-log line
    report = json.loads(out.read_text())
    assert [(e["file"], e["line"]) for e in report["errors"]] == [("logs/proxy/access.log", 8)]
    seen = {
        (e["line"], e["principal"], e["organisation"])
        for u in report["undecided"]
        for e in u["sample"]
    }
    seen |= {
        (e["line"], e["principal"], e["organisation"])
        for f in report["findings"]
        for e in f["events"]
    }
    assert {
        (2, "10.20.0.15", "Metro City Police Department"),
        (4, "192.168.7.40", "Shop Co"),
        (6, "analyst7", "Analyst Unit"),
        (9, "2001:db8::17", "Harbor County Sheriff's Office"),
    } <= seen
    assert report["summary"]["kinds"]["identification_1toN"] == 4
    (source,) = [i for i in report["inputs"] if i["path"] == "logs/proxy/access.log"]
    assert (source["source"], source["records"], source["errors"]) == ("httplog", 9, 1)


def test_a_client_address_with_a_port_is_attributed_through_the_cli(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """Traefik's JSON access log names the client as `ClientAddr` with its port."""
    record = {
        "StartUTC": "2026-03-14T09:00:00Z",
        "ClientAddr": "10.20.0.15:41342",
        "RequestMethod": "POST",
        "RequestPath": "/face/v1.0/identify",
        "DownstreamStatus": 200,
    }
    bundle = make_bundle(
        tmp_path / "b",
        {"logs/traefik/access.json": json.dumps(record).encode() + b"\n"},
        principals=ENTRIES,
    )
    out = tmp_path / "r.json"
    result = cli(
        "audit",
        bundle,
        "--format",
        "json",
        "--output",
        out,
        "--no-store",
        "--no-frames",
        "--policy",
        "all",
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads(out.read_text())
    events = [e for f in report["findings"] for e in f["events"]]
    events += [e for u in report["undecided"] for e in u["sample"]]
    assert events and {e["organisation"] for e in events} == {"Metro City Police Department"}
