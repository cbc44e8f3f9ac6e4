"""`conch keys` (and `conch usage`): the exact forms other tools depend on."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conch.cli import main
from conch.cli.usage import COLUMNS
from conch.config import Settings
from conch.domain.errors import InvalidApiKey
from conch.services import Services
from conch.store.limits import KeyLimits
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


def test_limits_and_balances_are_set_changed_and_topped_up(tmp_path: Path) -> None:
    runner = CliRunner()

    def conch(*args: str) -> str:
        result = runner.invoke(main, [*args, "--data-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        return result.output

    conch("keys", "create", "--name", "reseller", "--rpm", "30", "--concurrency", "2",
          "--balance", "60")  # fmt: skip
    services = Services.open(Settings(data_dir=tmp_path, default_read_rpm=100))
    assert services.keys.get(1).limits == KeyLimits(submit_rpm=30, concurrency=2)  # type: ignore[union-attr]
    conch("keys", "update", "1", "--rpm", "default", "--read-rpm", "unlimited")
    assert services.keys.get(1).limits == KeyLimits(read_rpm=0, concurrency=2)  # type: ignore[union-attr]
    assert "balance 90 s, 90 s available" in conch("keys", "topup", "1", "30")
    shown = conch("keys", "show", "1", "--ledger")
    assert "tasks in flight at once (--concurrency): 2 (its own)" in shown
    assert [line.split("\t")[2:4] for line in shown.splitlines() if "\t" in line] == [
        ["topup", "60"],
        ["topup", "30"],
    ]
    conch("keys", "create", "--name", "free")
    refused = runner.invoke(main, ["keys", "topup", "2", "5", "--data-dir", str(tmp_path)])
    assert refused.exit_code == 1 and "--balance SECONDS" in refused.output
    assert "balance: 7 s" in conch("keys", "update", "2", "--balance", "7")
    assert "balance: unlimited" in conch("keys", "update", "2", "--balance", "unlimited")
    assert conch("usage", "--csv", "--since", "2020-01-01").splitlines() == [",".join(COLUMNS)]
