"""KeyStore's cache of verified keys: one lookup per interval (a busy key's made ahead of
its expiry by one caller), revocations felt within it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event

from conch.domain.errors import InvalidApiKey
from conch.store.db import open_database
from conch.store.keys import VERIFIED_KEY_TTL, KeyStore, VerifiedKeys


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(database_url: str) -> Engine:
    return open_database(database_url)


def queries(engine: Engine) -> list[str]:
    """Every statement ``engine`` sends from now on."""
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def test_a_key_is_looked_up_once_per_interval(engine: Engine, clock: Clock) -> None:
    keys = KeyStore(engine, verified=VerifiedKeys(clock=clock))
    record, key = keys.create("busy caller")
    sent = queries(engine)
    for _ in range(100):
        assert keys.authenticate(key) == record
        clock.advance(VERIFIED_KEY_TTL / 200)
    assert len(sent) == 1
    clock.advance(VERIFIED_KEY_TTL / 2 + 0.01)  # the interval is over: asked again, once
    for _ in range(10):
        assert keys.authenticate(key) == record
    assert len(sent) == 2


def test_a_revocation_elsewhere_takes_effect_within_the_interval(
    engine: Engine, clock: Clock
) -> None:
    server = KeyStore(engine, verified=VerifiedKeys(clock=clock))
    record, key = server.create("soon revoked")
    server.authenticate(key)
    operator = KeyStore(engine)  # another process: `conch keys revoke`
    assert operator.revoke(record.id)
    clock.advance(VERIFIED_KEY_TTL - 0.001)
    assert server.authenticate(key) == record  # still trusted, for what is left of the second
    clock.advance(0.001)
    with pytest.raises(InvalidApiKey, match="revoked"):
        server.authenticate(key)
    assert VERIFIED_KEY_TTL <= 1.0


def test_a_revocation_here_takes_effect_at_once(engine: Engine, clock: Clock) -> None:
    keys = KeyStore(engine, verified=VerifiedKeys(clock=clock))
    record, key = keys.create("revoked here")
    keys.authenticate(key)
    keys.revoke(record.id)
    with pytest.raises(InvalidApiKey, match="revoked"):
        keys.authenticate(key)


def test_a_refused_key_is_asked_about_every_time(engine: Engine, clock: Clock) -> None:
    keys = KeyStore(engine, verified=VerifiedKeys(clock=clock))
    sent = queries(engine)
    for _ in range(3):
        with pytest.raises(InvalidApiKey, match="not valid"):
            keys.authenticate("sk-conch-not-a-key")
    assert len(sent) == 3


def test_the_oldest_verified_key_makes_room(engine: Engine, clock: Clock) -> None:
    keys = KeyStore(engine, verified=VerifiedKeys(kept=2, clock=clock))
    made = [keys.create(f"key {n}")[1] for n in range(3)]
    for key in made:
        keys.authenticate(key)
    assert keys.verified.get(made[0]) is None
    assert all(keys.verified.get(key) is not None for key in made[1:])


def test_a_busy_key_is_looked_up_again_by_one_caller_before_it_expires(
    engine: Engine, clock: Clock
) -> None:
    keys = KeyStore(engine, verified=VerifiedKeys(clock=clock))
    record, key = keys.create("busy caller")
    keys.authenticate(key)
    sent = queries(engine)
    clock.advance(VERIFIED_KEY_TTL / 4)
    assert keys.verified.recent(key) == record  # fresh enough: nobody looks
    clock.advance(VERIFIED_KEY_TTL / 4)
    assert keys.verified.recent(key) is None  # due: the first caller is to look again...
    assert [keys.verified.recent(key) for _ in range(5)] == 5 * [record]  # ...the rest trust
    assert keys.authenticate(key) == record  # the first caller's lookup
    assert len(sent) == 1
    clock.advance(VERIFIED_KEY_TTL * 0.55)  # past the first expiry, trusted from the lookup
    assert keys.verified.recent(key) is None  # (and due for the next one)
    assert keys.verified.recent(key) == record
    assert len(sent) == 1


def test_a_revocation_found_by_the_early_lookup_ends_the_trust_at_once(
    engine: Engine, clock: Clock
) -> None:
    server = KeyStore(engine, verified=VerifiedKeys(clock=clock))
    record, key = server.create("soon revoked")
    server.authenticate(key)
    assert KeyStore(engine).revoke(record.id)  # another process
    clock.advance(VERIFIED_KEY_TTL / 2)
    assert server.verified.recent(key) is None  # the one that looks again
    assert server.verified.recent(key) == record  # the others, until it has looked
    with pytest.raises(InvalidApiKey, match="revoked"):
        server.authenticate(key)
    assert server.verified.recent(key) is None
    assert server.verified.get(key) is None


def test_an_early_lookup_that_never_happens_leaves_the_expiry_as_it_was(
    engine: Engine, clock: Clock
) -> None:
    keys = KeyStore(engine, verified=VerifiedKeys(clock=clock))
    record, key = keys.create("caller")
    keys.authenticate(key)
    clock.advance(VERIFIED_KEY_TTL / 2)
    assert keys.verified.recent(key) is None  # its caller gave up before looking
    assert keys.verified.recent(key) == record
    clock.advance(VERIFIED_KEY_TTL / 2)
    assert keys.verified.recent(key) is None  # expired for everyone, as ever
    assert keys.verified.recent(key) is None
    assert keys.authenticate(key) == record  # and looked up as ever
    assert keys.verified.recent(key) == record
