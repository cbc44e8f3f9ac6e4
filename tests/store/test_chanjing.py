"""ChanjingStore against real SQLite and PostgreSQL: app pairs, tokens, expiry, replacement."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conch.domain.errors import InvalidApiKey
from conch.store.chanjing import ChanjingStore
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.tables import chanjing_apps

TTL = 600


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> ChanjingStore:
    return ChanjingStore(open_database(database_url), token_ttl=TTL, clock=clock)


@pytest.fixture
def keys(store: ChanjingStore, clock: Clock) -> KeyStore:
    return KeyStore(store.engine, clock=clock)


def test_a_token_acts_as_the_key_its_app_is_bound_to(
    store: ChanjingStore, keys: KeyStore, clock: Clock
) -> None:
    key = keys.create("chanjing user")[0]
    app = store.create_app(key.id)
    issued = store.issue_token(app.app_id, app.secret_key)
    assert issued.expires_at == int(clock.now + TTL)
    assert store.authenticate(issued.token) == key
    assert store.apps_of(key.id) == [app.app_id]


def test_only_hashes_are_stored(store: ChanjingStore, keys: KeyStore) -> None:
    app = store.create_app(keys.create("k")[0].id)
    token = store.issue_token(app.app_id, app.secret_key).token
    with store.engine.begin() as conn:
        row = conn.execute(select(chanjing_apps)).one()
    stored = " ".join(str(value) for value in row)
    assert app.secret_key not in stored and token not in stored


def test_wrong_or_unknown_credentials_are_refused(store: ChanjingStore, keys: KeyStore) -> None:
    app = store.create_app(keys.create("k")[0].id)
    with pytest.raises(InvalidApiKey, match="does not match") as wrong:
        store.issue_token(app.app_id, app.secret_key[::-1])
    assert wrong.value.field == "secret_key"
    with pytest.raises(InvalidApiKey, match="no app") as unknown:
        store.issue_token("0000", app.secret_key)
    assert unknown.value.field == "app_id"
    with pytest.raises(InvalidApiKey, match="is not valid") as bad_token:
        store.authenticate("not-a-token")
    assert bad_token.value.field == "access_token"


def test_a_token_expires_after_its_ttl(store: ChanjingStore, keys: KeyStore, clock: Clock) -> None:
    app = store.create_app(keys.create("k")[0].id)
    token = store.issue_token(app.app_id, app.secret_key).token
    clock.now += TTL - 1
    store.authenticate(token)
    clock.now += 1
    with pytest.raises(InvalidApiKey, match="expired at"):
        store.authenticate(token)


def test_a_new_token_replaces_the_previous_one(store: ChanjingStore, keys: KeyStore) -> None:
    app = store.create_app(keys.create("k")[0].id)
    first = store.issue_token(app.app_id, app.secret_key).token
    second = store.issue_token(app.app_id, app.secret_key).token
    third = store.issue_token(app.app_id, app.secret_key).token
    with pytest.raises(InvalidApiKey, match="replaced by a newer token"):
        store.authenticate(second)
    with pytest.raises(InvalidApiKey, match="is not valid"):  # only one generation is kept
        store.authenticate(first)
    store.authenticate(third)


def test_apps_are_independent(store: ChanjingStore, keys: KeyStore) -> None:
    key = keys.create("k")[0]
    one, two = store.create_app(key.id), store.create_app(key.id)
    token_one = store.issue_token(one.app_id, one.secret_key).token
    token_two = store.issue_token(two.app_id, two.secret_key).token
    assert store.authenticate(token_one) == store.authenticate(token_two) == key


def test_revoking_the_key_kills_its_tokens_and_apps(store: ChanjingStore, keys: KeyStore) -> None:
    key = keys.create("k")[0]
    app = store.create_app(key.id)
    token = store.issue_token(app.app_id, app.secret_key).token
    keys.revoke(key.id)
    with pytest.raises(InvalidApiKey, match="revoked"):
        store.authenticate(token)
    with pytest.raises(InvalidApiKey, match="revoked"):
        store.issue_token(app.app_id, app.secret_key)
