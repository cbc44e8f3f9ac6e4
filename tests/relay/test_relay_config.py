"""The relay's configuration: the exact keys of issue 13, and a start-up error that names
any missing variable, unknown upstream or unknown kind (never a secret's value)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conch.client.presets import Dialect
from conch.config import Settings
from conch.domain.catalog import Mode
from conch.domain.errors import EngineCannotServe
from conch.engines.registry import check_routes, check_servable, modes_of
from conch.engines.relay.upstreams import endpoint

TOML = """
[upstreams.mm]
kind = "minimax"
api_key_env = "MINIMAX_API_KEY"

[upstreams.backup]
kind = "conch"
base_url = "http://10.0.0.5:8000"
dialect = "modelverse"
api_key_env = "BACKUP_KEY"

[upstreams.cj]
kind = "chanjing"
app_id_env = "CJ_APP"
secret_key_env = "CJ_SECRET"

[models."MiniMax-Hailuo-02"]
engine = "relay"
upstreams = ["mm", "backup"]
upstream_model = "MiniMax-Hailuo-02"
"""


def settings_from(toml: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    path = tmp_path / "conch.toml"
    path.write_text(toml)
    monkeypatch.setenv("CONCH_CONFIG", str(path))
    return Settings()


def test_the_issues_keys_configure_upstreams_and_a_relayed_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MINIMAX_API_KEY", "BACKUP_KEY", "CJ_APP", "CJ_SECRET"):
        monkeypatch.setenv(name, "secret-value")
    settings = settings_from(TOML, tmp_path, monkeypatch)
    check_routes(settings)
    mm, backup = endpoint("mm", settings), endpoint("backup", settings)
    assert (mm.dialect, mm.base_url) == (Dialect.MINIMAX, "https://api.minimaxi.com")
    assert (backup.dialect, backup.base_url) == (Dialect.MODELVERSE, "http://10.0.0.5:8000")
    assert endpoint("cj", settings).dialect is Dialect.CHANJING
    route = settings.route("MiniMax-Hailuo-02")
    assert (route.upstreams, route.upstream_model) == (["mm", "backup"], "MiniMax-Hailuo-02")
    assert modes_of(route) == frozenset(Mode)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("", ""), "the environment variable BACKUP_KEY is not set"),
        (('kind = "minimax"', 'kind = "hailuo"'), "unknown kind 'hailuo'"),
        (('["mm", "backup"]', '["mm", "nowhere"]'), "unknown upstream 'nowhere'"),
        (('dialect = "modelverse"', 'dialect = "klingon"'), "upstreams.backup.dialect"),
        (('base_url = "http://10.0.0.5:8000"\n', ""), "upstreams.backup.base_url"),
    ],
    ids=["missing variable", "unknown kind", "unknown upstream", "bad dialect", "no base_url"],
)
def test_a_bad_configuration_is_refused_at_start_up_naming_what_is_wrong(
    change: tuple[str, str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MINIMAX_API_KEY", "CJ_APP", "CJ_SECRET"):
        monkeypatch.setenv(name, "secret-value")
    if change[0]:
        monkeypatch.setenv("BACKUP_KEY", "secret-value")
    settings = settings_from(TOML.replace(*change, 1), tmp_path, monkeypatch)
    with pytest.raises(ValueError) as refused:
        check_routes(settings)
    assert named in str(refused.value)
    assert "secret-value" not in str(refused.value)


def test_the_motion_engines_refusal_of_text_to_video_names_the_relay() -> None:
    from conch.domain.request import GenerationRequest, validate

    spec = validate(GenerationRequest(model="MiniMax-Hailuo-02", prompt="a harbour"))
    with pytest.raises(EngineCannotServe, match="relay engine"):
        check_servable(Settings(), spec)
