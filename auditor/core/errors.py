"""Errors that carry a location, so every message can name the file and line it is about.

Two families, because they end an audit differently:

* `ConfigError` (a bad pack, principals.toml or audit.toml, a bad option): nothing is audited,
  the command line exits 2.
* `InputIssue` is not an exception but a value: one unreadable record, line, frame or file.
  Sources and the frame pass collect them and go on; the audit ends "incomplete" (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where something is: a bundle-relative (or user-given) path plus an optional position."""

    file: str
    line: int | None = None
    record: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
        if self.record is not None:
            text += f" (record {self.record})"
        return text


class AuditorError(Exception):
    """Base class for every error the command line turns into a message and an exit code."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        if self.location.field:
            return f"{self.location}: {self.location.field}: {self.message}"
        return f"{self.location}: {self.message}"


class ConfigError(AuditorError):
    """A pack, principals file, audit.toml or option is invalid: nothing can be audited."""


class ConfigErrors(ConfigError):
    """Several problems in one file, all reported at once (one per line)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__(errors[0].message, errors[0].location)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class BundleError(ConfigError):
    """The bundle itself cannot be used (missing, not a folder)."""


class StoreError(AuditorError):
    """The database could not be opened or written."""


@dataclass(frozen=True)
class InputIssue:
    """One unreadable or unusable piece of input; collected, counted and reported, never raised."""

    file: str
    message: str
    line: int | None = None
    record: int | None = None

    def as_dict(self) -> dict[str, object]:
        """The `errors[]` entry of the JSON report."""
        return {
            "file": self.file,
            "line": self.line,
            "record": self.record,
            "message": self.message,
        }

    def __str__(self) -> str:
        return str(Location(self.file, self.line, self.record)) + f": {self.message}"
