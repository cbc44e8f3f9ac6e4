"""Moderation: prompts checked against an operator's list of words and patterns, and a
hook point for a real classifier.

The list is a UTF-8 file named by ``moderation_file``, one entry a line:

- a word or phrase, matched case-insensitively as whole words (``knife`` refuses "a Knife"
  but not "knifefish");
- ``re:`` and a regular expression (Python's syntax, case-insensitive), for anything else,
  such as text written without spaces between words;
- blank lines and lines starting with ``#`` are skipped.

Prompts and entries are compared after Unicode NFKC normalisation and case folding, so
full-width letters and ligatures match their plain forms, and with each run of white space
taken as one space. The file is read again when it
changes (its size, time or inode), at the next submit: no restart. A file that becomes
unreadable or holds a bad pattern leaves the last good list in force, and says so in the log.

A refusal never echoes what matched: the caller learns that the prompt was refused, not
which entry refused it (which would let them probe the list).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from conch.domain.errors import SensitiveContent

log = logging.getLogger(__name__)

PATTERN_PREFIX = "re:"
REFUSED = "the prompt was refused by this service's content policy; rephrase it and submit again"


class Moderator(Protocol):
    """A content check: returns when ``prompt`` may be used, raises SensitiveContent when
    not. A deployment plugs a classifier in by adding one to ``Services.moderators``."""

    def check(self, prompt: str) -> None: ...


def normalised(text: str) -> str:
    """``text`` as words and prompts are compared: NFKC, case-folded, each run of white
    space one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def compile_entries(lines: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for every entry of a list (None for an empty list); ValueError naming
    the line of a bad pattern."""
    parts: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(PATTERN_PREFIX):
            pattern = unicodedata.normalize("NFKC", line[len(PATTERN_PREFIX) :].strip())
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"line {number}: not a regular expression: {error}") from None
            parts.append(f"(?:{pattern})")
        else:
            parts.append(rf"(?<!\w){re.escape(normalised(line))}(?!\w)")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


class WordList:
    """The operator's list in ``path``, read again whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._pattern: re.Pattern[str] | None = None
        self._complained: tuple[int, int, int] | None = None
        self._load(self._stamp())  # a missing or bad list at start-up is an error

    def check(self, prompt: str) -> None:
        """SensitiveContent when ``prompt`` holds a listed word or pattern."""
        self._refresh()
        pattern = self._pattern
        if pattern is not None and pattern.search(normalised(prompt)):
            raise SensitiveContent(REFUSED)

    def _stamp(self) -> tuple[int, int, int]:
        found = os.stat(self.path)
        return found.st_mtime_ns, found.st_size, found.st_ino

    def _load(self, stamp: tuple[int, int, int]) -> None:
        self._pattern = compile_entries(self.path.read_text(encoding="utf-8").splitlines())
        self._seen = stamp

    def _refresh(self) -> None:
        try:
            stamp = self._stamp()
            if stamp == self._seen:
                return
            with self._lock:
                if stamp != self._seen:
                    self._load(stamp)
                    log.info("moderation list %s reloaded", self.path)
        except (OSError, ValueError) as error:
            if self._complained != self._seen:  # once per list in force, not per submit
                self._complained = self._seen
                log.error(
                    "moderation list %s not reloaded (the last one stays): %s", self.path, error
                )


def moderators_from(path: Path | None) -> list[Moderator]:
    """The checks the settings ask for: the word list, if one is named."""
    return [] if path is None else [WordList(path)]
