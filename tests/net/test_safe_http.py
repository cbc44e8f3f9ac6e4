"""Real exchanges with servers on loopback: pinning, redirects, caps, deadlines, POSTs."""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import pytest

from conch.net import (
    BadStatus,
    BadUrl,
    BlockedAddress,
    ConnectFailed,
    DeadlineExceeded,
    EncodedBody,
    OutboundPolicy,
    TooLarge,
    TooManyRedirects,
    TransferFailed,
    fetch,
    post_json,
)
from conch.net.policy import parse_networks
from net.loopback import FakeDns
from support.http_server import LoopbackServer

pytestmark = pytest.mark.anyio

ONLY_127_0_0_1 = parse_networks(["127.0.0.1/32"])
BODY = b"\x89PNG not really, but bytes are bytes" * 10


def pinned(dns: FakeDns, networks: str = "127.0.0.1/32") -> OutboundPolicy:
    return OutboundPolicy(allowed_networks=parse_networks([networks]), resolver=dns)


class Trickle:
    """A route that sends a status at once, then one byte every ``every`` seconds until it
    has sent ``count`` or the client has hung up; ``ended`` is set then, ``sent`` says how
    many bytes went out."""

    def __init__(self, every: float, count: int) -> None:
        self.every, self.count = every, count
        self.sent = 0
        self.ended = threading.Event()

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            handler.send_response(200)
            handler.send_header("Content-Length", str(self.count))
            handler.end_headers()
            while self.sent < self.count:
                handler.wfile.write(b"x")
                handler.wfile.flush()
                self.sent += 1
                time.sleep(self.every)
        except OSError:
            pass  # the client hung up
        finally:
            self.ended.set()

    def hung_up_early(self) -> bool:
        """Whether the client left before the whole body was out (waits for the route)."""
        self.ended.wait()
        return self.sent < self.count


async def test_a_name_is_fetched_from_its_checked_address(
    server: LoopbackServer, dns: FakeDns
) -> None:
    server.serve("/cat.png", BODY)
    dns.add("images.test", ["127.0.0.1"])
    url = server.url("/cat.png", host="images.test")
    assert await fetch(url, pinned(dns), max_bytes=len(BODY), deadline=5) == BODY
    (seen,) = server.seen
    assert seen.host == f"images.test:{server.port}"
    assert seen.headers["User-Agent"].startswith("conch/")


async def test_loopback_is_refused_before_any_connection(server: LoopbackServer) -> None:
    url = server.serve("/cat.png", BODY)
    with pytest.raises(BlockedAddress, match=r"address 127\.0\.0\.1 is loopback"):
        await fetch(url, OutboundPolicy(), max_bytes=10_000, deadline=5)
    assert server.seen == []
    body = await fetch(url, OutboundPolicy(allow_private=True), max_bytes=10_000, deadline=5)
    assert body == BODY


async def test_dns_rebinding_finds_no_second_lookup(server: LoopbackServer, dns: FakeDns) -> None:
    server.serve("/cat.png", BODY)
    dns.add("rebind.test", ["127.0.0.1"], ["10.0.0.5"])  # allowed first, private after
    url = server.url("/cat.png", host="rebind.test")
    assert await fetch(url, pinned(dns), max_bytes=10_000, deadline=5) == BODY
    assert dns.lookups == ["rebind.test"]
    assert server.seen[0].host == f"rebind.test:{server.port}"
    # the next request looks up afresh, and meets the private answer
    with pytest.raises(BlockedAddress, match=r"rebind\.test resolves to an address that is priv"):
        await fetch(url, pinned(dns), max_bytes=10_000, deadline=5)
    assert len(server.seen) == 1


async def test_the_next_checked_address_is_tried_when_one_refuses(
    server: LoopbackServer, dns: FakeDns
) -> None:
    server.serve("/cat.png", BODY)
    dns.add("two.test", ["127.0.0.3", "127.0.0.1"])  # nothing listens on 127.0.0.3
    url = server.url("/cat.png", host="two.test")
    assert await fetch(url, pinned(dns, "127.0.0.0/8"), max_bytes=10_000, deadline=5) == BODY


async def test_a_refused_connection_is_reported(refused_port: int) -> None:
    url = f"http://127.0.0.1:{refused_port}/cat.png"
    with pytest.raises(ConnectFailed, match=r"could not connect to 127\.0\.0\.1"):
        await fetch(url, OutboundPolicy(allow_private=True), max_bytes=10_000, deadline=5)


async def test_a_connection_that_hangs_ends_at_the_connect_timeout(unanswered_port: int) -> None:
    url = f"http://127.0.0.1:{unanswered_port}/cat.png"
    policy = OutboundPolicy(allow_private=True, connect_timeout=0.3)
    # The connect timeout's own failure: had the overall deadline ended it, the error would
    # be a DeadlineExceeded.
    with pytest.raises(ConnectFailed, match=r"127\.0\.0\.1 did not answer within 0\.3 s"):
        await fetch(url, policy, max_bytes=10_000, deadline=30)


async def test_redirects_are_followed_and_every_hop_is_pinned(
    server: LoopbackServer, dns: FakeDns
) -> None:
    dns.add("a.test", ["127.0.0.1"])
    dns.add("b.test", ["127.0.0.1"])
    server.serve("/final.png", BODY)
    server.redirect("/3", "/final.png", status=307)  # relative
    server.redirect("/2", server.url("/3", host="b.test"), status=301)
    server.redirect("/1", server.url("/2", host="a.test"), status=303)
    body = await fetch(server.url("/1", host="a.test"), pinned(dns), max_bytes=10_000, deadline=5)
    assert body == BODY
    assert [(s.path, s.host) for s in server.seen] == [
        ("/1", f"a.test:{server.port}"),
        ("/2", f"a.test:{server.port}"),
        ("/3", f"b.test:{server.port}"),
        ("/final.png", f"b.test:{server.port}"),
    ]
    assert dns.lookups == ["a.test", "a.test", "b.test", "b.test"]


async def test_too_many_redirects_are_refused(server: LoopbackServer) -> None:
    for hop in range(4):
        server.redirect(f"/{hop}", f"/{hop + 1}")
    server.serve("/4", BODY)
    policy = OutboundPolicy(allowed_networks=ONLY_127_0_0_1)
    assert await fetch(server.url("/0"), policy, max_bytes=999, deadline=5, max_redirects=4)
    with pytest.raises(TooManyRedirects, match="more than 3 redirects"):
        await fetch(server.url("/0"), policy, max_bytes=999, deadline=5, max_redirects=3)


async def test_a_redirect_to_a_forbidden_address_is_refused(
    server: LoopbackServer, server_factory: Callable[..., LoopbackServer]
) -> None:
    elsewhere = server_factory("127.0.0.2")  # Linux routes all of 127/8 to loopback
    target = elsewhere.serve("/secret", b"internal")
    url = server.redirect("/go", target)
    policy = OutboundPolicy(allowed_networks=ONLY_127_0_0_1)
    with pytest.raises(
        BlockedAddress,
        match=r"redirected to http://127\.0\.0\.2:\d+/secret: address 127\.0\.0\.2 is loopback",
    ):
        await fetch(url, policy, max_bytes=999, deadline=5)
    assert elsewhere.seen == []
    # the same chain, with 127.0.0.2 allowed too, arrives: the refusal was the policy's
    wider = OutboundPolicy(allowed_networks=parse_networks(["127.0.0.0/8"]))
    assert await fetch(url, wider, max_bytes=999, deadline=5) == b"internal"


async def test_redirects_to_other_schemes_are_refused(server: LoopbackServer) -> None:
    url = server.redirect("/go", "file:///etc/passwd")
    with pytest.raises(BadUrl, match="scheme must be http or https, got 'file'"):
        await fetch(url, OutboundPolicy(allow_private=True), max_bytes=999, deadline=5)


async def test_a_non_success_status_is_refused(server: LoopbackServer) -> None:
    with pytest.raises(BadStatus, match="HTTP 404") as refused:
        await fetch(
            server.url("/nothing"), OutboundPolicy(allow_private=True), max_bytes=9, deadline=5
        )
    assert refused.value.status == 404


async def test_the_byte_cap_holds_with_and_without_a_declared_length(
    server: LoopbackServer,
) -> None:
    def undeclared(handler: BaseHTTPRequestHandler) -> None:  # HTTP/1.0: ends at close
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(BODY)

    server.routes["/undeclared"] = undeclared
    declared = server.serve("/declared", BODY)
    policy = OutboundPolicy(allow_private=True)
    assert await fetch(declared, policy, max_bytes=len(BODY), deadline=5) == BODY
    assert await fetch(server.url("/undeclared"), policy, max_bytes=len(BODY), deadline=5) == BODY
    with pytest.raises(TooLarge, match=f"declares {len(BODY)} bytes"):
        await fetch(declared, policy, max_bytes=len(BODY) - 1, deadline=5)
    with pytest.raises(TooLarge, match=f"over the limit of {len(BODY) - 1} bytes"):
        await fetch(server.url("/undeclared"), policy, max_bytes=len(BODY) - 1, deadline=5)


async def test_a_trickling_server_is_cut_off_at_the_deadline(server: LoopbackServer) -> None:
    slow = server.routes["/slow"] = Trickle(every=0.2, count=50)  # 10 s in all, under the cap
    with pytest.raises(DeadlineExceeded, match="did not finish within 1 s"):
        await fetch(
            server.url("/slow"), OutboundPolicy(allow_private=True), max_bytes=99, deadline=1
        )
    assert slow.hung_up_early()  # cut off mid-body, not read to the end


async def test_a_trickle_is_cut_at_the_minimum_rate_long_before_the_deadline(
    server: LoopbackServer,
) -> None:
    slow = server.routes["/slow"] = Trickle(every=0.2, count=50)  # 5 bytes a second
    policy = OutboundPolicy(allow_private=True, min_rate=100, rate_grace=0.5)
    with pytest.raises(TransferFailed, match="slower than 100 bytes a second"):
        await fetch(server.url("/slow"), policy, max_bytes=99, deadline=600)
    assert slow.hung_up_early()  # the deadline was ten minutes away: the rate cut it


async def test_a_body_that_keeps_up_the_rate_is_read_whole(server: LoopbackServer) -> None:
    server.routes["/steady"] = Trickle(every=0.01, count=20)  # about 100 bytes a second
    policy = OutboundPolicy(allow_private=True, min_rate=1, rate_grace=5)
    assert await fetch(server.url("/steady"), policy, max_bytes=99, deadline=600) == b"x" * 20


async def test_the_deadline_spans_every_redirect_hop(server: LoopbackServer) -> None:
    def slow_redirect(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(0.3)
        handler.send_response(302)
        handler.send_header("Location", "/loop")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.routes["/loop"] = slow_redirect
    # One deadline for the chain: a deadline per hop would let all 11 hops through, each in
    # 0.3 s, and end in TooManyRedirects.
    with pytest.raises(DeadlineExceeded, match="did not finish within 1 s"):
        await fetch(
            server.url("/loop"),
            OutboundPolicy(allow_private=True),
            max_bytes=99,
            deadline=1,
            max_redirects=10,
        )
    assert len(server.seen) < 11


async def test_post_json_sends_the_body_and_returns_any_status(server: LoopbackServer) -> None:
    def echo(handler: BaseHTTPRequestHandler) -> None:
        sent = json.loads(server.seen[-1].body)  # the server read it before routing
        answer = json.dumps({"challenge": sent["challenge"]}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    server.routes["/hook"] = echo
    server.serve("/gone", b"", status=410)
    policy = OutboundPolicy(allow_private=True)
    body = json.dumps({"challenge": "c-123"}).encode()
    response = await post_json(
        server.url("/hook"),
        body,
        policy,
        deadline=3,
        max_response_bytes=999,
        headers={"webhook-id": "msg_1"},
    )
    assert (response.status, json.loads(response.body)) == (200, {"challenge": "c-123"})
    seen = server.seen[0]
    assert (seen.method, seen.body) == ("POST", body)
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["webhook-id"] == "msg_1"
    gone = await post_json(server.url("/gone"), body, policy, deadline=3, max_response_bytes=99)
    assert gone.status == 410 and not gone.is_success


async def test_post_json_never_follows_a_redirect(
    server: LoopbackServer, server_factory: Callable[..., LoopbackServer]
) -> None:
    elsewhere = server_factory()
    url = server.redirect("/hook", elsewhere.serve("/other", b"{}"), status=307)
    response = await post_json(
        url, b"{}", OutboundPolicy(allow_private=True), deadline=3, max_response_bytes=99
    )
    assert response.status == 307 and response.is_redirect
    assert response.headers["Location"] == elsewhere.url("/other")
    assert elsewhere.seen == []


async def test_post_json_stops_reading_at_the_cap_once_the_status_is_in(
    server: LoopbackServer,
) -> None:
    def undeclared(handler: BaseHTTPRequestHandler) -> None:  # HTTP/1.0: ends at close
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"y" * 5000)

    server.serve("/chatty", b"y" * 1000)
    server.routes["/undeclared"] = undeclared
    policy = OutboundPolicy(allow_private=True)
    for path in ("/chatty", "/undeclared"):
        answer = await post_json(server.url(path), b"{}", policy, deadline=3, max_response_bytes=99)
        assert (answer.status, answer.body) == (200, b"y" * 99)
        assert answer.cut_short == "over the limit of 99 bytes"
    whole = await post_json(
        server.url("/chatty"), b"{}", policy, deadline=3, max_response_bytes=1000
    )
    assert (len(whole.body), whole.cut_short) == (1000, None)


async def test_post_json_keeps_the_deadline(server: LoopbackServer) -> None:
    def silent(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(2)
        handler.send_response(200)
        handler.end_headers()

    server.routes["/silent"] = silent
    trickling = server.routes["/trickle"] = Trickle(every=0.2, count=50)  # 10 s in all
    policy = OutboundPolicy(allow_private=True)
    with pytest.raises(DeadlineExceeded):  # no status within the deadline: no answer at all
        await post_json(server.url("/silent"), b"{}", policy, deadline=0.5, max_response_bytes=9)
    # A status in time decides, however slowly the body follows. (The deadline leaves a
    # loaded machine ample time to get the status across; the body needs 10 s.)
    answer = await post_json(
        server.url("/trickle"), b"{}", policy, deadline=2, max_response_bytes=99
    )
    assert answer.status == 200 and answer.cut_short == "still arriving after 2 s"
    assert trickling.hung_up_early()


async def test_post_json_refuses_forbidden_addresses(server: LoopbackServer) -> None:
    with pytest.raises(BlockedAddress, match="loopback"):
        await post_json(
            server.url("/hook"), b"{}", OutboundPolicy(), deadline=3, max_response_bytes=9
        )
    assert server.seen == []


def encoded(body: bytes, encoding: str) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route that answers ``body`` (already encoded) with ``Content-Encoding: encoding``."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Encoding", encoding)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


BOMB = gzip.compress(b"\0" * (8 * 1024 * 1024))  # ~8 KB that inflate to 8 MB


async def test_a_compressed_body_is_refused_not_inflated_past_the_cap(
    server: LoopbackServer,
) -> None:
    assert len(BOMB) < 10_000
    server.routes["/bomb.png"] = encoded(BOMB, "gzip")
    server.routes["/deflate.png"] = encoded(zlib.compress(BODY), "deflate")
    server.routes["/br.png"] = encoded(b"not really brotli", "br")
    policy = OutboundPolicy(allow_private=True)
    for path, encoding in [("/bomb.png", "gzip"), ("/deflate.png", "deflate"), ("/br.png", "br")]:
        with pytest.raises(EncodedBody, match=f"Content-Encoding '{encoding}'"):
            await fetch(server.url(path), policy, max_bytes=10_000, deadline=5)
    assert all(seen.headers["Accept-Encoding"] == "identity" for seen in server.seen)


async def test_identity_encoding_is_read_as_it_is(server: LoopbackServer) -> None:
    server.routes["/identity.png"] = encoded(BODY, "identity")
    policy = OutboundPolicy(allow_private=True)
    assert await fetch(server.url("/identity.png"), policy, max_bytes=len(BODY), deadline=5) == BODY


async def test_a_posts_compressed_answer_is_kept_raw(server: LoopbackServer) -> None:
    server.routes["/hook"] = encoded(BOMB, "gzip")
    policy = OutboundPolicy(allow_private=True)
    answer = await post_json(server.url("/hook"), b"{}", policy, deadline=3, max_response_bytes=99)
    assert answer.status == 200 and answer.content_encoding == "gzip"
    assert answer.body == BOMB[:99] and answer.cut_short == "over the limit of 99 bytes"


async def test_a_304_is_not_a_redirect(
    server: LoopbackServer, server_factory: Callable[..., LoopbackServer]
) -> None:
    elsewhere = server_factory()
    url = server.redirect("/cached", elsewhere.serve("/other", BODY), status=304)
    policy = OutboundPolicy(allow_private=True)
    with pytest.raises(BadStatus, match="HTTP 304"):
        await fetch(url, policy, max_bytes=10_000, deadline=5)
    answer = await post_json(url, b"{}", policy, deadline=3, max_response_bytes=9)
    assert answer.status == 304 and not answer.is_redirect and not answer.is_success
    assert elsewhere.seen == []


PROXY_VARIABLES = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
]


async def test_proxy_settings_in_the_environment_are_ignored(
    server: LoopbackServer,
    server_factory: Callable[..., LoopbackServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = server_factory()  # records anything a proxy would be asked
    proxy.serve("/", b"proxied")
    for variable in PROXY_VARIABLES:
        monkeypatch.setenv(variable, proxy.url("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    url = server.serve("/cat.png", BODY)
    policy = OutboundPolicy(allow_private=True)
    assert await fetch(url, policy, max_bytes=10_000, deadline=5) == BODY
    answer = await post_json(url, b"{}", policy, deadline=3, max_response_bytes=10_000)
    assert answer.body == BODY
    assert proxy.seen == []
    assert [seen.method for seen in server.seen] == ["GET", "POST"]
