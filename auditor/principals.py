"""Who is who: principals.toml turns log identities into organisations and categories.

Logs only say `arn:aws:sts::1111:assumed-role/pd-search/jane`; whether that is a police
department is a fact the auditor is told, not something it can see. First match wins, in file
order, so a specific entry placed before a broad glob overrides it.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from auditor import tomlfile
from auditor.models import Event, Principal

#: The documented categories (docs/bundle.md). Others are refused so typos cannot hide police.
CATEGORIES = (
    "police",
    "federal_law_enforcement",
    "law_enforcement_authority",
    "campus_police",
    "state_local_agency",
    "city_department",
    "city_contractor",
    "public_safety_agency",
    "private_entity",
    "private_entity_in_public_accommodation",
    "vendor",
    "ngo",
    "media",
    "researcher",
    "other",
)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4096)
def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A log's client address as an IP address (IPv4-mapped IPv6 unwrapped), or None."""
    if not text:
        return None
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True)
class PrincipalRule:
    """One `[[principal]]` table: exactly one matcher plus what it makes the principal."""

    organisation: str
    category: str
    arn: re.Pattern[str] | None = None
    account: str | None = None
    name: str | None = None
    address: IPNetwork | None = None

    def matches(self, p: Principal) -> bool:
        """True when this entry describes principal `p`."""
        if self.address is not None:
            ip = _ip(p.address)
            return ip is not None and ip.version == self.address.version and ip in self.address
        if self.arn is not None:
            return any(self.arn.match(a) for a in p.arns)
        if self.account is not None:
            return p.account == self.account
        return p.id == self.name


@dataclass(frozen=True)
class Directory:
    """The ordered entries of principals.toml."""

    rules: tuple[PrincipalRule, ...] = ()

    def resolve(self, p: Principal) -> Principal:
        """`p` with organisation and category filled in, or left `unknown`."""
        for rule in self.rules:
            if rule.matches(p):
                return replace(
                    p, organisation=rule.organisation, category=rule.category, matched=True
                )
        return p

    def attribute(self, event: Event) -> Event:
        """The event with its principal resolved."""
        return replace(event, principal=self.resolve(event.principal))


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Shell-style glob where `*` also crosses `/` and `:` (as in ARNs)."""
    return re.compile(fnmatch.translate(pattern))


def load(path: Path, display: str) -> Directory:
    """Read principals.toml; every problem is a ConfigError with file:line."""
    doc = tomlfile.load(path, display)
    unknown = set(doc.data) - {"principal"}
    if unknown:
        key = sorted(unknown)[0]
        raise doc.error(
            f"unknown table or key {key!r} (expected [[principal]])", key=key, field=key
        )
    entries = doc.data.get("principal", [])
    if not isinstance(entries, list):
        raise doc.error("principal must be an array of tables ([[principal]])", key="principal")
    rules = []
    for i, entry in enumerate(entries):
        where = f"principal[{i}]"
        matchers = [k for k in ("arn", "account", "name", "address") if k in entry]
        if len(matchers) != 1:
            raise doc.error(
                "needs exactly one of arn, account, name or address", "principal", i, field=where
            )
        key = matchers[0]
        value = entry[key]
        if not isinstance(value, str) or not value:
            raise doc.error(
                f"{key} must be a non-empty string", "principal", i, key=key, field=f"{where}.{key}"
            )
        for req in ("organisation", "category"):
            if not isinstance(entry.get(req), str) or not entry[req]:
                raise doc.error(f"missing {req}", "principal", i, field=f"{where}.{req}")
        if entry["category"] not in CATEGORIES:
            raise doc.error(
                f"unknown category {entry['category']!r} (known: {', '.join(CATEGORIES)})",
                "principal",
                i,
                key="category",
                field=f"{where}.category",
            )
        network = None
        if key == "address":
            try:
                network = ipaddress.ip_network(value.strip(), strict=False)
            except ValueError:
                raise doc.error(f"address {value!r} is not an IP address or CIDR range "
                                "(e.g. 10.0.0.0/8, 2001:db8::/32)", "principal", i, key=key,
                                field=f"{where}.{key}") from None
        extra = set(entry) - {"arn", "account", "name", "address", "organisation", "category",
                              "note"}
        if extra:
            bad = sorted(extra)[0]
            raise doc.error(f"unknown key {bad!r}", "principal", i, key=bad, field=f"{where}.{bad}")
        rules.append(
            PrincipalRule(
                organisation=entry["organisation"],
                category=entry["category"],
                arn=glob_regex(value) if key == "arn" else None,
                account=value if key == "account" else None,
                name=value if key == "name" else None,
                address=network,
            )
        )
    return Directory(tuple(rules))
