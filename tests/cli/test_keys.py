"""`conch keys`: the exact forms other tools depend on."""

from __future__ import annotations

from pathlib import Path

import pytest

from conch.config import Settings
from conch.domain.errors import InvalidApiKey
from conch.services import Services
from support.live import conch_command


def test_create_prints_the_key_alone_on_the_last_line(tmp_path: Path) -> None:
    out = conch_command("keys", "create", "--name", "ci", "--data-dir", str(tmp_path)).stdout
    key = out.strip().splitlines()[-1]
    assert key.startswith("sk-conch-") and " " not in key
    services = Services.open(Settings(data_dir=tmp_path))
    assert services.keys.authenticate(key).name == "ci"


def test_list_and_revoke(tmp_path: Path) -> None:
    env = {"CONCH_DATA_DIR": str(tmp_path)}  # the option also comes from the environment
    key = conch_command("keys", "create", "--name", "ops", env=env).stdout.strip().splitlines()[-1]
    listed = conch_command("keys", "list", env=env).stdout.strip().split("\t")
    assert listed[:2] == ["1", "ops"] and listed[-1] == "active"
    assert key not in conch_command("keys", "list", env=env).stdout  # only a prefix is shown
    conch_command("keys", "revoke", "1", env=env)
    assert conch_command("keys", "list", env=env).stdout.strip().endswith("revoked")
    with pytest.raises(InvalidApiKey, match="revoked"):
        Services.open(Settings(data_dir=tmp_path)).keys.authenticate(key)
    with pytest.raises(AssertionError, match="no active key 1"):
        conch_command("keys", "revoke", "1", env=env)
