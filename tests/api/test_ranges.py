"""Which bytes a Range header asks for (RFC 9110 §14.1.2), over a 1000-byte file."""

from __future__ import annotations

import pytest

from conch.api.ranges import Unsatisfiable, parse_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "sent"),
    [
        ("bytes=0-99", (0, 100)),
        ("bytes=900-", (900, 1000)),
        ("bytes=900-5000", (900, 1000)),  # clipped to the end
        ("bytes=-100", (900, 1000)),  # the last 100
        ("bytes=-5000", (0, 1000)),
        ("bytes=999-999", (999, 1000)),
        # Served whole, as the RFC allows: another unit, several ranges, malformed ones.
        ("items=0-9", None),
        ("bytes=0-9,20-29", None),
        ("bytes=9-0", None),
        ("bytes=-", None),
        ("bytes=a-b", None),
    ],
)
def test_one_range_is_served_and_anything_else_means_the_whole_file(
    header: str, sent: tuple[int, int] | None
) -> None:
    assert parse_range(header, SIZE) == sent


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_past_the_end_cannot_be_satisfied(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, SIZE)


def test_an_empty_file_has_no_last_bytes() -> None:
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=-10", 0)
