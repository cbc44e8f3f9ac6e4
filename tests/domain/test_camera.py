"""The camera-command grammar: brackets, spellings, sequencing, and camera wording."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conch.domain.camera import (
    CHINESE,
    CameraMove,
    CameraPlan,
    CameraSegment,
    parse_move,
    parse_prompt,
    parse_wording,
)

# --- Brackets ---------------------------------------------------------------------------


def test_a_bracket_becomes_a_segment_and_leaves_the_prompt() -> None:
    parsed = parse_prompt("A cat runs [Pan left, Pedestal up], then sits [推进].")
    assert parsed.text == "A cat runs, then sits."
    assert parsed.plan.to_wire() == [["Pan left", "Pedestal up"], ["Push in"]]


@pytest.mark.parametrize("move", list(CameraMove))
def test_every_command_in_both_languages(move: CameraMove) -> None:
    for spelling in (move.value, CHINESE[move], move.value.upper(), f"  {move.value.lower()} "):
        assert parse_move(spelling) is move
        assert parse_prompt(f"x [{spelling}] y").plan == _plan([move])


def test_short_forms_and_full_width_brackets() -> None:
    both = _plan([CameraMove.TRACKING, CameraMove.PAN_LEFT])
    assert parse_prompt("【Tracking，左摇】").plan == both
    assert parse_prompt("[static]").plan == _plan([CameraMove.STATIC])


def test_a_bracket_of_ordinary_text_stays() -> None:
    parsed = parse_prompt("An [old] house [Push in, dancing] at dusk")
    assert parsed.text == "An [old] house [Push in, dancing] at dusk"
    # Not a command bracket, but still camera wording.
    assert parsed.plan == _plan([CameraMove.PUSH_IN])
    assert parse_prompt("An [old] house [snow, dancing]").plan.is_empty


@pytest.mark.parametrize(
    ("prompt", "text"),
    [
        ("A  cat,  then a dog [Push in]", "A  cat,  then a dog"),
        ("[Push in] A cat", "A cat"),
        ("a [Pan left]  [Push in] b", "a b"),
        ("小猫跑[推进]然后停下", "小猫跑然后停下"),
        ("A  cat\n sits", "A  cat\n sits"),
    ],
)
def test_only_the_gap_a_bracket_leaves_is_tidied(prompt: str, text: str) -> None:
    assert parse_prompt(prompt).text == text


# --- Properties ---------------------------------------------------------------------------

_moves = st.sampled_from(list(CameraMove))
_segments = st.lists(st.frozensets(_moves, min_size=1, max_size=3), min_size=1, max_size=5)
_filler = st.text(
    alphabet=st.characters(blacklist_characters="[]【】", blacklist_categories=("Cs",)),
    max_size=12,
)


@st.composite
def _spelling(draw: st.DrawFn, move: CameraMove) -> str:
    english = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in move.value).replace(
        " ", " " * draw(st.integers(1, 3))
    )
    return draw(st.sampled_from([english, CHINESE[move]]))


@st.composite
def _prompt(draw: st.DrawFn) -> tuple[str, list[frozenset[CameraMove]]]:
    segments = draw(_segments)
    parts = []
    for moves in segments:
        items = [draw(_spelling(move)) for move in sorted(moves)]
        separator = draw(st.sampled_from([",", "，", "、", ", "]))
        parts.append(draw(_filler))
        parts.append(f"[{separator.join(items)}]")
    parts.append(draw(_filler))
    return "".join(parts), segments


@given(_prompt())
def test_brackets_give_their_segments_in_order(
    case: tuple[str, list[frozenset[CameraMove]]],
) -> None:
    prompt, segments = case
    parsed = parse_prompt(prompt)
    assert parsed.plan == CameraPlan(tuple(CameraSegment(moves) for moves in segments))
    assert not re.search(r"[\[【][^\]】]*[\]】]", parsed.text), "no command bracket is left"


@given(st.lists(st.lists(_moves, min_size=1, max_size=4), max_size=6))
def test_any_plan_round_trips_through_the_wire(segments: list[list[CameraMove]]) -> None:
    plan = CameraPlan(tuple(CameraSegment(frozenset(moves)) for moves in segments))
    wire = plan.to_wire()
    assert CameraPlan.from_wire(wire) == plan
    assert all(isinstance(name, str) for segment in wire for name in segment)


@given(st.text(max_size=200))
def test_any_prompt_parses_without_error(prompt: str) -> None:
    parsed = parse_prompt(prompt)
    assert len(parsed.text) <= len(prompt)
    assert all(segment.moves for segment in parsed.plan.segments)


@given(st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=20))
def test_brackets_that_are_not_commands_stay_verbatim(word: str) -> None:
    word = " ".join(word.split())  # the prompt's runs of white space are collapsed
    if parse_move(word) is not None or not word:
        return
    prompt = f"before [{word}] after"
    parsed = parse_prompt(prompt)
    assert f"[{word}]" in parsed.text


@given(_prompt())
def test_removing_brackets_is_idempotent(case: tuple[str, list[frozenset[CameraMove]]]) -> None:
    once = parse_prompt(case[0]).text
    assert parse_prompt(once).text == once


def _plan(*segments: list[CameraMove]) -> CameraPlan:
    return CameraPlan(tuple(CameraSegment(frozenset(moves)) for moves in segments))


# --- Wording ------------------------------------------------------------------------------

M = CameraMove


@pytest.mark.parametrize(
    ("prompt", "segments"),
    [
        ("镜头缓缓推进", [[M.PUSH_IN]]),
        ("the camera pans left", [[M.PAN_LEFT]]),
        ("The camera pushes in, then pulls out.", [[M.PUSH_IN], [M.PULL_OUT]]),
        ("A balloon rises as the camera pans to the right", [[M.PAN_RIGHT]]),
        ("镜头向左摇，然后缓缓上升", [[M.PAN_LEFT], [M.PEDESTAL_UP]]),
        ("镜头变焦推近，同时晃动", [[M.ZOOM_IN, M.SHAKE]]),
        ("镜头跟随骑手，画面保持固定", [[M.TRACKING, M.STATIC]]),
        ("摄像机向右平移。镜头拉远", [[M.TRUCK_RIGHT], [M.PULL_OUT]]),
        (
            "Handheld camera follows a runner. The camera zooms out.",
            [[M.SHAKE, M.TRACKING], [M.ZOOM_OUT]],
        ),
        ("The camera slowly rises and tilts down", [[M.PEDESTAL_UP, M.TILT_DOWN]]),
        ("the camera moves to the left and then rises", [[M.TRUCK_LEFT], [M.PEDESTAL_UP]]),
        ("We slowly dolly in towards the door", [[M.PUSH_IN]]),
        ("Crane up over the city, then tilt down to the street", [[M.PEDESTAL_UP], [M.TILT_DOWN]]),
        ("A static shot of a lake", [[M.STATIC]]),
        ("The camera trucks right past the cars", [[M.TRUCK_RIGHT]]),
        ("镜头跟随", [[M.TRACKING]]),
        ("镜头后拉", [[M.PULL_OUT]]),
        ("摄像机从高处缓缓下降", [[M.PEDESTAL_DOWN]]),
        ("镜头推进，画面中的人物逐渐缩小", [[M.PUSH_IN]]),
    ],
)
def test_camera_wording_is_read(prompt: str, segments: list[list[CameraMove]]) -> None:
    parsed = parse_prompt(prompt)
    assert parsed.plan == _plan(*segments)
    assert parsed.text == prompt, "wording stays in the prompt"


@pytest.mark.parametrize(
    "prompt",
    [
        "A balloon rises into the sky",
        "气球上升，温度下降",
        "He pans for gold in a river",
        "a frying pan on the left",
        "She shakes hands with a dog that follows its owner",
        "Zoom meeting in progress",
        "The camera pans left, then a balloon rises",
        "画面中，气球缓缓上升",
        "画面里一个女孩低头看书",
        "画面中的人物逐渐缩小",
        "镜头前，小狗跟着主人跑",
        "镜头前小狗跟着主人跑",
        "镜头里一个女孩低头看书",
    ],
)
def test_everyday_words_are_not_camera_moves(prompt: str) -> None:
    plan = parse_wording(prompt)
    assert M.PEDESTAL_UP not in {m for s in plan.segments for m in s.moves}
    if "camera" not in prompt:
        assert plan.is_empty


def test_brackets_win_over_wording() -> None:
    parsed = parse_prompt("the camera pans left [Push in]")
    assert parsed.plan == _plan([M.PUSH_IN])
    assert parsed.text == "the camera pans left"
