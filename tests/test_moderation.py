"""The operator's word list: whole words, patterns, Unicode forms, and a reload on every
change that keeps the last good list when an edit is bad."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conch.domain.errors import SensitiveContent
from conch.moderation import REFUSED, WordList, compile_entries, moderators_from


def refuses(words: WordList, prompt: str) -> bool:
    try:
        words.check(prompt)
    except SensitiveContent as refused:
        assert refused.detail == REFUSED  # never what matched
        return True
    return False


def test_words_match_whole_and_patterns_match_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("# comment\n\nknife\nred  wine\nre:禁止|b[o0]mb\n", encoding="utf-8")
    words = WordList(path)
    assert refuses(words, "A KNIFE on a table")
    assert refuses(words, "ｋｎｉｆｅ")  # full-width letters: NFKC
    assert not refuses(words, "a knifefish swims")
    assert refuses(words, "画面禁止出现") and refuses(words, "a B0MB")
    assert refuses(words, "Red\n wine")  # white space is white space
    assert not refuses(words, "")


def test_the_list_reloads_when_it_changes_and_a_bad_edit_keeps_the_last(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("knife\n", encoding="utf-8")
    words = WordList(path)
    path.write_text("spoon\n", encoding="utf-8")
    assert refuses(words, "a spoon") and not refuses(words, "a knife")
    path.write_text("re:(unclosed\n", encoding="utf-8")
    assert refuses(words, "a spoon")  # the bad edit is logged, the last good list stays
    path.unlink()
    assert refuses(words, "a spoon")
    path.write_text("", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert not refuses(words, "a spoon")  # an empty list refuses nothing


def test_a_bad_list_at_start_up_is_an_error_and_no_list_refuses_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="line 2: not a regular expression"):
        compile_entries(["fine", "re:[unclosed"])
    with pytest.raises(FileNotFoundError):
        WordList(tmp_path / "missing.txt")
    assert moderators_from(None) == []
