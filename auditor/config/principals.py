"""Who is who: principals.toml turns log identities into organisations and categories.

Logs only say `arn:aws:sts::1111:assumed-role/pd-search/jane`; whether that is a police
department is a fact the auditor is told, not something it can see. First match wins, in file
order, so a specific entry placed before a broad glob overrides it.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auditor.config import tomlfile
from auditor.core.models import Event, Principal

#: The documented categories (docs/bundle.md). Others are refused so typos cannot hide police.
CATEGORIES = (
    "police",
    "federal_law_enforcement",
    "law_enforcement_authority",
    "campus_police",
    "state_local_agency",
    "city_department",
    "city_contractor",
    "school",
    "public_safety_agency",
    "private_entity",
    "private_entity_in_public_accommodation",
    "financial_institution",
    "vendor",
    "ngo",
    "media",
    "researcher",
    "other",
)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


#: `[2001:db8::5]:41342` (RFC 3986 host with a port) and `10.40.0.8:41342`.
_V6_PORT = re.compile(r"^\[(?P<ip>[0-9A-Fa-f:.]+(?:%[\w.-]+)?)\](?::\d{1,5})?$")
_V4_PORT = re.compile(r"^(?P<ip>\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$")


@lru_cache(maxsize=4096)
def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A log's client address as an IP address, or None: a port after it is dropped
    (`10.40.0.8:41342`, `[2001:db8::5]:41342`, as proxies and uvicorn log clients) and an
    IPv4-mapped IPv6 address (`::ffff:10.0.0.5`, as Node reports IPv4 clients) unwrapped."""
    if not text:
        return None
    text = text.strip()
    m = _V6_PORT.match(text) or _V4_PORT.match(text)
    if m is not None:
        text = m.group("ip")
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


#: Distinct principals remembered by `Directory._rule_for` before the memo starts again.
_MEMO_MAX = 1 << 16
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _network(value: str) -> IPNetwork:
    """A principals.toml range; an IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) is the IPv4
    range it maps, so it matches the addresses as `_ip` unwraps them. Raises ValueError."""
    net = ipaddress.ip_network(value.strip(), strict=False)
    if isinstance(net, ipaddress.IPv6Network) and net.subnet_of(_MAPPED):
        mapped = net.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network((mapped, net.prefixlen - 96), strict=False)
    return net


@dataclass(frozen=True)
class PrincipalRule:
    """One `[[principal]]` table: exactly one matcher plus what it makes the principal."""

    organisation: str
    category: str
    arn: re.Pattern[str] | None = None
    account: str | None = None
    name: str | None = None
    address: IPNetwork | None = None
    #: The organisation this principal acts for (contractor, agent), and that organisation's
    #: category: rules that bind the category bind those acting for it (docs/bundle.md).
    on_behalf_of: str | None = None
    on_behalf_of_category: str | None = None
    #: Where the principal acts (country, region, locality, timezone), for logs that carry no
    #: place (CloudTrail, Azure Monitor, access logs): event fields the packs' filters test.
    place: tuple[tuple[str, str], ...] = ()
    #: The entry's position in principals.toml (`principal[3]`), named in `place_from`.
    index: int = 0
    #: Where the entry is, `principals.toml:12`: reports show it beside the attribution.
    entry: str | None = None

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
    _memo: dict[tuple[Any, ...], PrincipalRule | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def resolve(self, p: Principal) -> Principal:
        """`p` with organisation and category filled in, or left `unknown`."""
        rule = self._rule_for(p)
        if rule is None:
            return p
        return replace(
            p,
            organisation=rule.organisation,
            category=rule.category,
            matched=True,
            entry=rule.entry,
        )

    def _rule_for(self, p: Principal) -> PrincipalRule | None:
        """The first entry that describes `p`, memoised per principal: a log repeats a few
        principals thousands of times, and thousands of ARN globs each would cost seconds."""
        key = (p.id, p.account, p.address, p.arns)
        if key not in self._memo:
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[key] = next((r for r in self.rules if r.matches(p)), None)
        return self._memo[key]

    def category_of(self, organisation: str) -> str | None:
        """The category of the first entry for `organisation` (case does not matter)."""
        wanted = organisation.casefold()
        return next((r.category for r in self.rules if r.organisation.casefold() == wanted), None)

    def attribute(self, event: Event) -> Event:
        """The event with its principal resolved.

        An entry's `on_behalf_of` and `on_behalf_of_category` become event fields of the same
        names, unless the log already carries either: the record is the more specific witness
        (a contractor may work for the police on one job and for a shop on the next). A record
        naming only the organisation gets its category from that organisation's own entry.
        The entry's place keys (country, region, locality, timezone) fill the fields the log
        lacks; `place_from` says which came from principals.toml and which from the log.
        """
        rule = self._rule_for(event.principal)
        principal = (
            replace(
                event.principal,
                organisation=rule.organisation,
                category=rule.category,
                matched=True,
                entry=rule.entry,
            )
            if rule is not None
            else event.principal
        )
        extra: dict[str, str] = {}
        named, category = event.attr("on_behalf_of"), event.attr("on_behalf_of_category")
        if named and not category:
            # the log names the organisation only: its category is that of its own entry
            found = self.category_of(named)
            extra = {"on_behalf_of_category": found} if found else {}
        elif not named and not category:
            if rule is not None and rule.on_behalf_of and rule.on_behalf_of_category:
                extra = {
                    "on_behalf_of": rule.on_behalf_of,
                    "on_behalf_of_category": rule.on_behalf_of_category,
                }
        if rule is not None and rule.place:
            extra.update(_place(event, rule))
        if not extra:
            return replace(event, principal=principal)
        attrs = tuple(sorted({**dict(event.attributes), **extra}.items()))
        return replace(event, principal=principal, attributes=attrs)


def _place(event: Event, rule: PrincipalRule) -> dict[str, str]:
    """The entry's place keys the event lacks, and `place_from` naming where each came from."""
    filled = {k: v for k, v in rule.place if not event.attr(k)}
    if not filled:
        return {}
    own = [k for k, _ in rule.place if k not in filled]
    source = f"{', '.join(filled)} from principals.toml principal[{rule.index}]"
    if own:
        source += f"; {', '.join(own)} from the log"
    return {**filled, "place_from": source}


#: Keys of a `[[principal]]` entry that say where the principal acts.
PLACE_KEYS = ("country", "region", "locality", "timezone")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Shell-style glob where `*` also crosses `/` and `:` (as in ARNs)."""
    return re.compile(fnmatch.translate(pattern))


def load(path: Path | bytes, display: str) -> Directory:
    """Read principals.toml; every problem is a ConfigError with file:line."""
    doc = tomlfile.parse(path, display) if isinstance(path, bytes) else tomlfile.load(path, display)
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
                network = _network(value)
            except ValueError:
                raise doc.error(
                    f"address {value!r} is not an IP address or CIDR range "
                    "(e.g. 10.0.0.0/8, 2001:db8::/32)",
                    "principal",
                    i,
                    key=key,
                    field=f"{where}.{key}",
                ) from None
        extra = set(entry) - {
            "arn",
            "account",
            "name",
            "address",
            "organisation",
            "category",
            "note",
            *ACTING_FOR_KEYS,
            *PLACE_KEYS,
        }
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
                on_behalf_of=entry.get("on_behalf_of"),
                on_behalf_of_category=entry.get("on_behalf_of_category"),
                place=_place_keys(doc, entry, i),
                index=i,
                entry=f"{display}:{doc.line_of('principal', i)}",
            )
        )
    return Directory(_acting_for(doc, entries, tuple(rules)))


def _place_keys(
    doc: tomlfile.TomlDoc, entry: dict[str, object], i: int
) -> tuple[tuple[str, str], ...]:
    """Check an entry's place keys: non-empty strings, an IANA zone, ISO-looking codes."""
    out = []
    for key in PLACE_KEYS:
        if key not in entry:
            continue
        value = entry[key]
        where = f"principal[{i}].{key}"
        if not isinstance(value, str) or not value.strip():
            raise doc.error(
                f"{key} must be a non-empty string", "principal", i, key=key, field=where
            )
        problem = _place_problem(key, value)
        if problem:
            raise doc.error(problem, "principal", i, key=key, field=where)
        out.append((key, value.strip()))
    return tuple(out)


def _place_problem(key: str, value: str) -> str | None:
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return f"unknown IANA time zone {value!r} (e.g. America/New_York)"
    if key == "country" and not re.fullmatch(r"[A-Z]{2}", value):
        return f"country {value!r} is not an ISO 3166-1 alpha-2 code such as US or DE"
    if key == "region" and not re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", value):
        return f"region {value!r} is not an ISO 3166-2 code such as US-VA or DE-BY"
    return None


#: Keys of a `[[principal]]` entry that say whom it acts for.
ACTING_FOR_KEYS = ("on_behalf_of", "on_behalf_of_category")


def _acting_for(
    doc: tomlfile.TomlDoc, entries: list[dict[str, object]], rules: tuple[PrincipalRule, ...]
) -> tuple[PrincipalRule, ...]:
    """Check `on_behalf_of` entries and fill in the category from the organisation's own entry.

    `on_behalf_of_category` may be omitted when another entry describes that organisation: its
    category is then taken from the first such entry, so the category is written once.
    """
    categories: dict[str, str] = {}
    for rule in rules:
        categories.setdefault(rule.organisation.casefold(), rule.category)
    out = []
    for i, (entry, rule) in enumerate(zip(entries, rules, strict=True)):
        where = f"principal[{i}]"
        for key in ACTING_FOR_KEYS:
            if key in entry and (not isinstance(entry[key], str) or not entry[key]):
                raise doc.error(
                    f"{key} must be a non-empty string",
                    "principal",
                    i,
                    key=key,
                    field=f"{where}.{key}",
                )
        if rule.on_behalf_of_category and not rule.on_behalf_of:
            raise doc.error(
                "on_behalf_of_category needs on_behalf_of (the organisation)",
                "principal",
                i,
                key="on_behalf_of_category",
                field=f"{where}.on_behalf_of_category",
            )
        if not rule.on_behalf_of:
            out.append(rule)
            continue
        category = rule.on_behalf_of_category or categories.get(rule.on_behalf_of.casefold())
        if category is None:
            raise doc.error(
                f"on_behalf_of {rule.on_behalf_of!r} names no organisation of another entry: "
                "add on_behalf_of_category",
                "principal",
                i,
                key="on_behalf_of",
                field=f"{where}.on_behalf_of",
            )
        if category not in CATEGORIES:
            raise doc.error(
                f"unknown category {category!r} (known: {', '.join(CATEGORIES)})",
                "principal",
                i,
                key="on_behalf_of_category",
                field=f"{where}.on_behalf_of_category",
            )
        out.append(replace(rule, on_behalf_of_category=category))
    return tuple(out)
