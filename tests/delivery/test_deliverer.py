"""The deliverer in-process: a real store, a real receiver on 127.0.0.1, its own thread.

Tasks are moved through their statuses with the TaskStore directly (no render), so these
tests look closely at bodies, order, retries, 410 and expiry in well under a second each.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from standardwebhooks import Webhook

from conch.config import Settings
from conch.delivery.deliverer import Deliverer
from conch.delivery.push import MAX_ANSWER_BYTES, Pusher
from conch.delivery.signing import new_secret
from conch.domain.ids import new_id
from conch.domain.task import Task
from conch.media.folder import FolderStore
from conch.media.links import link_base, link_base_problem
from conch.services import Services
from conch.store.chanjing import ChanjingStore
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.outage import Outage
from conch.store.outbox import DeliveryHistory, Outbox
from conch.store.pushes import DeliveryState
from conch.store.tasks import NewFile, TaskStore
from support.receiver import Received, Receiver, Reply, Switchable, pushes_answered, receiving
from support.tasks import text_spec

FAST = {
    "allowed_networks": ["127.0.0.1/32"],
    "callback_timeout": 2.0,
    "callback_retry_base": 0.05,
    "callback_retry_max_delay": 0.2,
    "callback_retry_window": 30.0,
    "poll_interval": 0.05,
    "public_url": "https://conch.example.com",
}


@dataclass
class Installation:
    services: Services
    owner: int

    def submit(self, url: str, dialect: str = "minimax") -> Task:
        return self.services.tasks.create(
            task_id=new_id(),
            owner_id=self.owner,
            dialect=dialect,
            spec=text_spec("a harbour [Push in]", callback_url=url),
            inputs={},
        )

    def succeed(self) -> None:
        tasks = self.services.tasks
        claim = tasks.claim("runner", 30)
        assert claim is not None and tasks.start_processing(claim)
        assert tasks.succeed(claim, NewFile("outputs/v.mp4", 5000, 1366, 768)) is not None

    def fail(self) -> None:
        claim = self.services.tasks.claim("runner", 30)
        assert claim is not None
        assert self.services.tasks.fail(claim, "sensitive_content", "prompt: refused")

    def history(self, task: Task) -> list[DeliveryHistory]:
        return Outbox(self.services.db).history(task.id)

    def wait_settled(self, task: Task, count: int, timeout: float = 20.0) -> list[DeliveryHistory]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            histories = self.history(task)
            done = [h for h in histories if h.delivery.state is not DeliveryState.PENDING]
            if len(done) >= count:
                return histories
            time.sleep(0.05)
        raise AssertionError(f"pushes of task {task.id} did not settle: {self.history(task)}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


def open_installation(tmp_path: Path, **settings: object) -> Installation:
    services = Services.open(Settings(data_dir=tmp_path, **{**FAST, **settings}))  # type: ignore[arg-type]
    owner = services.keys.create("owner")[0].id
    return Installation(services, owner)


@pytest.fixture
def conch(tmp_path: Path) -> Iterator[Installation]:
    installation = open_installation(tmp_path)
    deliverer = Deliverer(installation.services)
    deliverer.start()
    yield installation
    deliverer.stop()
    installation.services.close()


def test_minimax_pushes_arrive_in_order_with_the_query_shaped_body(
    conch: Installation, receiver: Receiver
) -> None:
    task = conch.submit(receiver.route("/hook"))
    conch.succeed()
    processing, success = (push.json for push in receiver.wait_for_pushes("/hook", 2))
    ok = {"status_code": 0, "status_msg": "success"}
    assert processing == {
        "task_id": task.task_id,
        "status": "processing",
        "file_id": "",
        "base_resp": ok,
    }
    file_id = conch.services.tasks.get(conch.owner, task.id).output.file_id  # type: ignore[union-attr]
    assert success == {
        "task_id": task.task_id,
        "status": "success",
        "file_id": str(file_id),
        "video_width": 1366,
        "video_height": 768,
        "base_resp": ok,
    }
    histories = conch.wait_settled(task, 2)
    assert [h.delivery.state for h in histories] == [DeliveryState.DELIVERED] * 2
    assert [h.attempts[0].http_status for h in histories] == [200, 200]


def test_a_failed_task_pushes_failed_with_the_reason(
    conch: Installation, receiver: Receiver
) -> None:
    task = conch.submit(receiver.route("/hook"))
    conch.fail()
    [push] = receiver.wait_for_pushes("/hook", 1)
    assert push.json == {
        "task_id": task.task_id,
        "status": "failed",
        "file_id": "",
        "base_resp": {"status_code": 1026, "status_msg": "prompt: refused"},
    }


def test_chanjing_pushes_its_task_object_with_fresh_links(
    conch: Installation, receiver: Receiver
) -> None:
    task = conch.submit(receiver.route("/cj"), dialect="chanjing")
    conch.succeed()
    generating, success = (push.json for push in receiver.wait_for_pushes("/cj", 2))
    assert generating["unique_id"] == success["unique_id"] == task.uuid
    assert (generating["progress_desc"], generating["output_url"]) == ("Generating", [])
    assert success["progress_desc"] == "Success" and success["motion_info"]["clarity"] == 720
    [link] = success["output_url"]
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == "https://conch.example.com"  # CONCH_PUBLIC_URL
    assert parts.path.endswith("/output_aigc.mp4") and "signature=" in parts.query


def test_two_failures_then_success_with_one_webhook_id(
    conch: Installation, receiver: Receiver
) -> None:
    secret = new_secret()
    conch.services.keys.set_signing_secret(conch.owner, secret)
    task = conch.submit(receiver.route("/flaky", pushes_answered(500, 503)))
    conch.succeed()
    pushes = receiver.wait_for_pushes("/flaky", 4)
    assert [push.json["status"] for push in pushes] == ["processing"] * 3 + ["success"]
    verifier = Webhook(secret)
    for push in pushes:
        assert verifier.verify(push.body, push.headers) == push.json
    ids = [push.headers["webhook-id"] for push in pushes]
    assert len(set(ids[:3])) == 1 and ids[3] != ids[0]  # stable across retries only
    processing, success = conch.wait_settled(task, 2)
    assert [a.http_status for a in processing.attempts] == [500, 503, 200]
    assert processing.delivery.webhook_id == ids[0] and success.delivery.webhook_id == ids[3]
    assert processing.delivery.state is DeliveryState.DELIVERED


def test_410_stops_every_push_to_that_url_until_a_new_handshake(
    conch: Installation, receiver: Receiver
) -> None:
    url = receiver.route("/gone", pushes_answered(410))
    first = conch.submit(url)
    second = conch.submit(url)  # submitted before the 410 too
    conch.succeed()
    first_pushes = conch.wait_settled(first, 2)
    assert [h.delivery.state for h in first_pushes] == [DeliveryState.GONE, DeliveryState.STOPPED]
    assert "410" in (first_pushes[1].delivery.outcome or "") and first_pushes[1].attempts == []
    conch.succeed()
    second_pushes = conch.wait_settled(second, 2)
    assert {h.delivery.state for h in second_pushes} == {DeliveryState.STOPPED}
    assert len(receiver.pushes("/gone")) == 1  # only the push that was answered 410
    time.sleep(0.05)  # a later submit (its handshake passed) subscribes the URL anew
    third = conch.submit(url)
    conch.succeed()
    assert [h.delivery.state for h in conch.wait_settled(third, 2)] == [DeliveryState.DELIVERED] * 2


def test_a_redirect_is_a_failure_and_is_not_followed(
    conch: Installation, receiver: Receiver
) -> None:
    target = receiver.route("/target")
    moved = Reply(307, headers={"Location": target})
    responses = iter([moved, moved])
    url = receiver.route("/moved", lambda _request: next(responses, Reply()))
    task = conch.submit(url)
    conch.fail()
    [history] = conch.wait_settled(task, 1)
    assert [a.http_status for a in history.attempts] == [307, 307, 200]
    assert receiver.requests("/target") == []


def test_a_push_gives_up_when_the_window_closes(tmp_path: Path, receiver: Receiver) -> None:
    conch = open_installation(tmp_path, callback_retry_window=0.6)
    deliverer = Deliverer(conch.services)
    deliverer.start()
    try:
        task = conch.submit(receiver.route("/down", Switchable(503)))
        conch.fail()
        [history] = conch.wait_settled(task, 1)
    finally:
        deliverer.stop()
    assert history.delivery.state is DeliveryState.EXPIRED
    assert len(history.attempts) >= 2 and {a.http_status for a in history.attempts} == {503}
    assert "gave up after" in (history.delivery.outcome or "")
    # A next attempt is scheduled only while the window is open: every attempt but the last
    # ended inside it (whatever the machine's load made of the waits in between).
    end = history.delivery.created_at + 0.6
    assert all(a.started_at + a.duration < end for a in history.attempts[:-1])


def test_a_receiver_slower_than_the_timeout_is_retried_and_never_blocks_other_tasks(
    conch: Installation, receiver: Receiver
) -> None:
    quick_arrived = threading.Event()
    attempts = iter(["hang", "answer"])

    def slow_then_fine(_request: Received) -> Reply:
        if next(attempts, "answer") == "answer":
            return Reply()
        # The first attempt hangs until the other task's push has arrived, and then past the
        # deliverer's timeout: were pushes sent one at a time, that push would come only
        # after this attempt had been given up.
        quick_arrived.wait(60)
        return Reply(delay=FAST["callback_timeout"] + 1.0)

    def quick(_request: Received) -> Reply:
        quick_arrived.set()
        return Reply()

    slow_task = conch.submit(receiver.route("/slow", slow_then_fine))
    conch.fail()
    quick_task = conch.submit(receiver.route("/quick", quick))
    conch.fail()
    [history] = conch.wait_settled(slow_task, 1)
    assert history.delivery.state is DeliveryState.DELIVERED
    first, second = history.attempts
    assert first.http_status is None and "did not finish within 2 s" in (first.error or "")
    assert second.http_status == 200
    [pushed] = receiver.pushes("/quick")
    assert pushed.at < first.started_at + first.duration  # while the slow attempt hung
    assert conch.history(quick_task)[0].delivery.state is DeliveryState.DELIVERED


def test_a_2xx_with_a_body_over_the_cap_is_delivered(
    conch: Installation, receiver: Receiver
) -> None:
    chatty = Reply(body=b"x" * (4 * MAX_ANSWER_BYTES))
    task = conch.submit(receiver.route("/chatty", lambda _request: chatty))
    conch.fail()
    [history] = conch.wait_settled(task, 1)
    assert history.delivery.state is DeliveryState.DELIVERED
    assert [a.http_status for a in history.attempts] == [200]


def test_the_log_shows_urls_without_their_query_or_userinfo(
    conch: Installation, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="conch.delivery")
    url = receiver.route("/hook?token=s3cret-token")
    task = conch.submit(url.replace("http://", "http://alice:pa55word@"))
    conch.fail()
    conch.wait_settled(task, 1)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"{receiver.url('/hook')}: delivered: HTTP 200" in logged
    for secret in ("s3cret-token", "alice", "pa55word"):
        assert secret not in logged


def test_a_push_whose_lease_passed_on_is_not_recorded_twice(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    conch = open_installation(tmp_path)  # no deliverer running: this test is the deliverers
    outbox = Outbox(conch.services.db)
    task = conch.submit(receiver.route("/hook"))
    conch.fail()
    [stale] = outbox.claim("stalled", lease_seconds=0.05, limit=1)
    time.sleep(0.1)
    [fresh] = outbox.claim("fresh", lease_seconds=30, limit=1)
    pusher = Pusher(conch.services, outbox)
    verdict = asyncio.run(pusher.attempt(stale))  # sent, but its record would be stale
    assert verdict.state is DeliveryState.DELIVERED and not verdict.recorded
    assert "not recorded: its lease had passed to another deliverer" in caplog.text
    [history] = conch.history(task)
    assert history.delivery.state is DeliveryState.PENDING and history.attempts == []
    assert asyncio.run(pusher.attempt(fresh)).recorded
    [history] = conch.history(task)
    assert history.delivery.state is DeliveryState.DELIVERED and len(history.attempts) == 1
    assert len(receiver.pushes("/hook")) == 2  # at least once: the receiver de-duplicates
    conch.services.close()


def test_links_start_at_the_public_url_else_where_conch_listens(tmp_path: Path) -> None:
    def settings(**given: object) -> Settings:
        return Settings(data_dir=tmp_path, port=8123, **given)  # type: ignore[arg-type]

    assert link_base(settings(host="::1")) == "http://[::1]:8123"
    assert link_base_problem(settings(host="::1")) is None
    assert link_base_problem(settings(host="127.0.0.1")) is None
    public = settings(host="0.0.0.0", public_url="https://conch.example.com/")
    assert link_base(public) == "https://conch.example.com"
    assert link_base_problem(public) is None
    everywhere = link_base_problem(settings(host="0.0.0.0"))
    assert everywhere is not None and "http://0.0.0.0:8123, which no client can call" in everywhere
    lan = link_base_problem(settings(host="10.0.0.7"))
    assert lan is not None and "CONCH_PUBLIC_URL" in lan


def test_stopping_releases_pushes_in_flight(tmp_path: Path, receiver: Receiver) -> None:
    conch = open_installation(tmp_path)
    first = Deliverer(conch.services)
    first.start()
    answers = iter([Reply(delay=3.0)])
    task = conch.submit(receiver.route("/hang", lambda _request: next(answers, Reply())))
    conch.fail()
    receiver.wait_for_pushes("/hang", 1)
    first.stop()  # mid-request: the push is given back, not left leased
    [history] = conch.history(task)
    assert history.delivery.state is DeliveryState.PENDING and history.attempts == []
    second = Deliverer(conch.services)
    second.start()
    try:
        [history] = conch.wait_settled(task, 1, timeout=5.0)  # well before its lease ran out
    finally:
        second.stop()
    assert history.delivery.state is DeliveryState.DELIVERED


def test_a_failing_database_is_logged_once_not_on_every_claim(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The database's folder does not exist: every claim fails to connect.
    engine = open_database(f"sqlite:///{tmp_path / 'gone' / 'conch.db'}", upgrade=False)
    services = Services(
        settings=Settings(data_dir=tmp_path, **FAST),  # type: ignore[arg-type]
        db=engine,
        tasks=TaskStore(engine),
        keys=KeyStore(engine),
        chanjing=ChanjingStore(engine),
        media=FolderStore(tmp_path / "media"),
        secret=b"s" * 32,
    )
    deliverer = Deliverer(services)
    # Waits far shorter than a real outage's, so that many claims fail within the test.
    deliverer.outage = Outage("the deliverer", logging.getLogger("conch.delivery"), max_delay=0)
    with caplog.at_level(logging.INFO, logger="conch.delivery"):
        deliverer.start()
        deadline = time.monotonic() + 60
        while deliverer.outage.failures < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        deliverer.stop()
    assert deliverer.outage.failures >= 20
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["the deliverer failed; retrying with backoff"]
    assert "unable to open database file" in caplog.text  # the traceback says why
    services.close()
