"""Camera commands: the grammar of ``[...]`` brackets in a prompt, and the plan it yields.

A prompt such as ``"A cat runs [Pan left, Pedestal up], then sits [推进]"`` carries two
brackets. Commands in one bracket act together; brackets later in the prompt act later, so
the plan is a sequence of segments, each a set of simultaneous moves. A bracket whose items
are not all camera commands is ordinary text and stays in the prompt untouched.

The 15 commands have official Chinese and English spellings; English is matched without
regard to case or spacing, and a few short forms seen in client code are accepted
("Tracking", "Static").

A prompt with no command bracket may still describe the camera in words ("镜头缓缓推进",
"the camera pans left, then zooms in"); :func:`parse_wording` reads such wording into a
plan, less strictly than brackets, and the words stay in the prompt. Moves in one clause act
together; a sentence end or a word such as "then" / "然后" starts the next segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class CameraMove(StrEnum):
    """One of MiniMax's 15 camera commands, by its official English spelling."""

    TRUCK_LEFT = "Truck left"
    TRUCK_RIGHT = "Truck right"
    PAN_LEFT = "Pan left"
    PAN_RIGHT = "Pan right"
    PUSH_IN = "Push in"
    PULL_OUT = "Pull out"
    PEDESTAL_UP = "Pedestal up"
    PEDESTAL_DOWN = "Pedestal down"
    TILT_UP = "Tilt up"
    TILT_DOWN = "Tilt down"
    ZOOM_IN = "Zoom in"
    ZOOM_OUT = "Zoom out"
    SHAKE = "Shake"
    TRACKING = "Tracking shot"
    STATIC = "Static shot"


CHINESE: dict[CameraMove, str] = {
    CameraMove.TRUCK_LEFT: "左移",
    CameraMove.TRUCK_RIGHT: "右移",
    CameraMove.PAN_LEFT: "左摇",
    CameraMove.PAN_RIGHT: "右摇",
    CameraMove.PUSH_IN: "推进",
    CameraMove.PULL_OUT: "拉远",
    CameraMove.PEDESTAL_UP: "上升",
    CameraMove.PEDESTAL_DOWN: "下降",
    CameraMove.TILT_UP: "上摇",
    CameraMove.TILT_DOWN: "下摇",
    CameraMove.ZOOM_IN: "变焦推近",
    CameraMove.ZOOM_OUT: "变焦拉远",
    CameraMove.SHAKE: "晃动",
    CameraMove.TRACKING: "跟随",
    CameraMove.STATIC: "固定",
}
"""The official Chinese spelling of each command."""

_SHORT_FORMS = {"tracking": CameraMove.TRACKING, "static": CameraMove.STATIC}


def _key(text: str) -> str:
    return " ".join(text.lower().split())


_SPELLINGS: dict[str, CameraMove] = {
    **{_key(move.value): move for move in CameraMove},
    **{zh: move for move, zh in CHINESE.items()},
    **_SHORT_FORMS,
}


def parse_move(text: str) -> CameraMove | None:
    """The command that ``text`` spells, in either language, or None."""
    return _SPELLINGS.get(_key(text))


@dataclass(frozen=True)
class CameraSegment:
    """Moves that act together over one stretch of the clip."""

    moves: frozenset[CameraMove]


@dataclass(frozen=True)
class CameraPlan:
    """Segments in the order they act; an empty plan means the engine chooses."""

    segments: tuple[CameraSegment, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True if the prompt gave no camera command (the engine chooses the move)."""
        return not self.segments

    def to_wire(self) -> list[list[str]]:
        """A JSON-friendly form: one list of English command names per segment."""
        return [sorted(move.value for move in seg.moves) for seg in self.segments]

    @classmethod
    def from_wire(cls, data: list[list[str]]) -> CameraPlan:
        """The plan that :meth:`to_wire` wrote (English command names, one list a segment)."""
        return cls(tuple(CameraSegment(frozenset(CameraMove(m) for m in seg)) for seg in data))


@dataclass(frozen=True)
class ParsedPrompt:
    """A prompt split into its words for the model and its camera plan."""

    text: str
    plan: CameraPlan


# Half- and full-width brackets; items split on ASCII or CJK commas and the enumeration comma.
_BRACKET = re.compile(r"[\[【]([^\[\]【】]*)[\]】]")
_ITEM_SEPARATOR = re.compile(r"[,，、]")


def _bracket_moves(inner: str) -> frozenset[CameraMove] | None:
    items = [item.strip() for item in _ITEM_SEPARATOR.split(inner)]
    moves = [parse_move(item) for item in items if item]
    if not moves or any(move is None for move in moves):
        return None
    return frozenset(move for move in moves if move is not None)


def parse_prompt(prompt: str) -> ParsedPrompt:
    """Split camera brackets out of ``prompt``; other text, brackets included, stays.

    Only where a bracket was taken out is the text tidied (the gap closed to one space, or
    to none before punctuation); the rest of the prompt is kept exactly. With no command
    bracket, the plan is read from camera wording (:func:`parse_wording`) and the prompt is
    returned as given.
    """
    segments: list[CameraSegment] = []
    text = ""
    position = 0
    for match in _BRACKET.finditer(prompt):
        moves = _bracket_moves(match.group(1))
        if moves is None:
            continue
        text = _close_gap(text, prompt[position : match.start()], first=not segments)
        position = match.end()
        segments.append(CameraSegment(moves))
    if not segments:
        return ParsedPrompt(text=prompt, plan=parse_wording(prompt))
    text = _close_gap(text, prompt[position:], first=False)
    return ParsedPrompt(text=text, plan=CameraPlan(tuple(segments)))


_CLOSES = tuple(".,;:!?，。；：！？、")


def _close_gap(before: str, after: str, *, first: bool) -> str:
    """``before`` and ``after`` joined where a bracket stood between them.

    "grow up [推进]." must not leave "grow up ." behind, nor "a [Pan left] cat" two spaces.
    """
    if first:
        return after
    left, right = before.rstrip(), after.lstrip()
    if not left or not right or right.startswith(_CLOSES):
        return left + right
    spaced = left != before or right != after
    return left + (" " if spaced else "") + right


# --- Camera wording -------------------------------------------------------------------------
#
# English verbs are matched in their usual inflections. Phrases that name a direction ("pans
# left", "zooms in") are specific enough alone; bare verbs that also describe the subject
# ("rises", "shakes", "follows") count only right after a word for the camera.

_CAMERA_EN = r"(?:camera|shot|lens|view|frame|we)"
_NEAR = r"(?:\s+\w+){0,3}?\s+"  # up to three words between the camera and its verb
_TO = r"(?:\s+(?:to(?:ward)?s?\s+)?(?:the\s+)?)"  # "pans to the left", "pans left"


def _verb(stem: str, *, doubled: bool = False) -> str:
    last = stem[-1] if doubled else ""
    return rf"{stem}(?:s|es|{last}ed|{last}ing|ed|ing)?"


def _en(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b{pattern}\b", re.IGNORECASE)


def _en_camera(verbs: str) -> re.Pattern[str]:
    # Only the verb claims its words, so "handheld camera follows" is a shake and a follow.
    return _en(rf"{_CAMERA_EN}{_NEAR}(?P<move>{verbs})")


_MOVE_EN = rf"(?:{_verb('mov')}|{_verb('slid')}|{_verb('glid')}|{_verb('drift')}|{_verb('travel')})"
_PUSH = rf"(?:{_verb('push')}|{_verb('dolly')}|dollies|dollied|{_verb('mov')}|{_verb('creep')})"
_PULL = rf"(?:{_verb('pull')}|{_verb('dolly')}|dollies|dollied|{_verb('mov')}|{_verb('back')})"
_LIFT = rf"(?:{_verb('ris')}|rises|rose|{_verb('ascend')}|{_verb('lift')}|{_verb('climb')})"
_DROP = (
    rf"(?:{_verb('descend')}|{_verb('lower')}|{_verb('drop', doubled=True)}|{_verb('sink')}|sank)"
)

_ENGLISH: tuple[tuple[CameraMove, re.Pattern[str]], ...] = (
    (CameraMove.ZOOM_IN, _en(rf"{_verb('zoom')}\s+in(?:to|wards?)?")),
    (CameraMove.ZOOM_OUT, _en(rf"{_verb('zoom')}\s+(?:out|back)")),
    (CameraMove.PAN_LEFT, _en(rf"{_verb('pan', doubled=True)}{_TO}left")),
    (CameraMove.PAN_RIGHT, _en(rf"{_verb('pan', doubled=True)}{_TO}right")),
    (CameraMove.TILT_UP, _en(rf"{_verb('tilt')}\s+(?:up|upwards?)")),
    (CameraMove.TILT_DOWN, _en(rf"{_verb('tilt')}\s+(?:down|downwards?)")),
    (CameraMove.TRUCK_LEFT, _en(rf"(?:{_verb('truck')}|dolly|dollies){_TO}left")),
    (CameraMove.TRUCK_RIGHT, _en(rf"(?:{_verb('truck')}|dolly|dollies){_TO}right")),
    (CameraMove.TRUCK_LEFT, _en_camera(rf"{_MOVE_EN}{_TO}left")),
    (CameraMove.TRUCK_RIGHT, _en_camera(rf"{_MOVE_EN}{_TO}right")),
    (CameraMove.PEDESTAL_UP, _en(rf"(?:pedestal|{_verb('crane')}|boom)\s+up")),
    (CameraMove.PEDESTAL_DOWN, _en(rf"(?:pedestal|{_verb('crane')}|boom)\s+down")),
    (CameraMove.PEDESTAL_UP, _en_camera(rf"{_LIFT}|{_MOVE_EN}\s+up(?:wards?)?")),
    (CameraMove.PEDESTAL_DOWN, _en_camera(rf"{_DROP}|{_MOVE_EN}\s+down(?:wards?)?")),
    (CameraMove.PUSH_IN, _en(rf"(?:{_verb('push')}|dolly|dollies|dollied)\s+in(?:to|wards?)?")),
    (CameraMove.PUSH_IN, _en_camera(rf"{_PUSH}\s+(?:in|forward|closer|toward)")),
    (CameraMove.PULL_OUT, _en(rf"{_verb('pull')}\s+(?:out|back|away)|dolly\s+out")),
    (CameraMove.PULL_OUT, _en_camera(rf"{_PULL}\s+(?:out|back|away|backwards?)")),
    (CameraMove.SHAKE, _en(r"(?:hand-?held|shaky)\s+(?:camera|shot|footage)|camera\s+shake")),
    (CameraMove.SHAKE, _en_camera(rf"{_verb('shak')}|shook|{_verb('wobbl')}|{_verb('jitter')}")),
    (CameraMove.TRACKING, _en(r"tracking\s+shot|follow\s+shot")),
    (CameraMove.TRACKING, _en_camera(rf"{_verb('follow')}|{_verb('track')}")),
    (CameraMove.STATIC, _en(r"(?:static|fixed|locked[- ]off|still)\s+(?:camera|shot)")),
    (
        CameraMove.STATIC,
        _en(rf"{_CAMERA_EN}\s+(?:stays|remains|is|holds)\s+(?:still|static|fixed|steady)"),
    ),
)

# Chinese: the move words are everyday verbs (上升 "rise", 跟随 "follow", 缩小 "shrink"), so
# one counts only a few characters after a word for the camera as its subject, in the same
# phrase: "镜头缓缓推进" moves the camera, "画面中，气球缓缓上升" and "镜头前，小狗跟着主人跑"
# do not. 画面 ("the picture") and 视角 are not the camera: things move in the picture.
_CAMERA_ZH = re.compile(r"镜头|摄像机|摄影机|相机|机位|运镜")
_PLACE_ZH = "前后里中内外边旁"
"""After a camera word, these make it a place ("镜头前": in front of the camera), unless a
move word starts there ("镜头后拉": the camera pulls back)."""
_NEAR_ZH = 6
"""Characters that may stand between the camera and its move ("镜头从高处缓缓下降")."""
_PHRASE_ZH = re.compile(r"[，,、：:]")
_CONTINUES_ZH = re.compile(
    r"^\s*(?:同时|并且|并|又|也|还|再|继续|随后|接着|然后|缓缓|缓慢|慢慢|徐徐|逐渐|渐渐|快速|迅速"
    r"|轻轻|微微|稍稍|稍微|一边|开始|画面|视角|向|往|朝)"
)
"""A phrase opening so has no subject of its own: the camera named before it still acts
("镜头变焦推近，同时晃动"). One that opens with a noun ("小狗跟着") has its own subject."""

_CHINESE: tuple[tuple[CameraMove, re.Pattern[str]], ...] = tuple(
    (move, re.compile(pattern))
    for move, pattern in (
        (CameraMove.ZOOM_IN, r"变焦推近|变焦拉近|焦距拉近|变焦放大|放大"),
        (CameraMove.ZOOM_OUT, r"变焦拉远|焦距拉远|变焦缩小|缩小"),
        (CameraMove.PAN_LEFT, r"左摇|摇向左|向左摇|向左转|左转"),
        (CameraMove.PAN_RIGHT, r"右摇|摇向右|向右摇|向右转|右转"),
        (CameraMove.TILT_UP, r"上摇|向上摇|摇向上|仰拍|抬头"),
        (CameraMove.TILT_DOWN, r"下摇|向下摇|摇向下|俯拍|低头"),
        (CameraMove.TRUCK_LEFT, r"左移|向左移|向左平移|左平移|向左横移"),
        (CameraMove.TRUCK_RIGHT, r"右移|向右移|向右平移|右平移|向右横移"),
        (CameraMove.PEDESTAL_UP, r"上升|升起|升高|上移|向上移|抬升"),
        (CameraMove.PEDESTAL_DOWN, r"下降|降低|下移|向下移|下沉"),
        (CameraMove.PUSH_IN, r"推进|推近|拉近|前推|向前推|推向|推镜头|向前移"),
        (CameraMove.PULL_OUT, r"拉远|后拉|拉开|向后拉|后退|拉镜头|向后移"),
        (CameraMove.SHAKE, r"晃动|摇晃|抖动|颤抖|手持"),
        (CameraMove.TRACKING, r"跟随|跟拍|跟踪|跟着"),
        (CameraMove.STATIC, r"固定|静止|不动|定格"),
    )
)

# A new segment starts at a sentence end or a word that puts one move after another.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|[。！？；;]")
_THEN = re.compile(
    r"\b(?:then|afterwards?|after\s+that|next|finally|before\s+(?:finally\s+)?)\b"
    r"|然后|接着|随后|之后|最后|再",
    re.IGNORECASE,
)


# A clause that opens with its own subject does not inherit the camera as its subject.
_OWN_SUBJECT = re.compile(
    r"^\W*(?:and\s+)?(?:a|an|the|this|that|these|those|his|her|its|their|he|she|it|they|i)\b",
    re.IGNORECASE,
)
_MENTIONS_CAMERA = _en(_CAMERA_EN)


def parse_wording(text: str) -> CameraPlan:
    """The camera plan that natural-language wording in ``text`` describes (maybe empty)."""
    segments: list[CameraSegment] = []
    for sentence in _SENTENCE.split(text):
        camera_named = chinese_camera = False
        for clause in _THEN.split(sentence):
            # "The camera pans left, then rises": the camera is still the one rising.
            inherits = camera_named and not _OWN_SUBJECT.match(clause)
            moves = _clause_moves(f"camera {clause}" if inherits else clause)
            zh_moves, chinese_camera = _chinese_moves(clause, chinese_camera)
            camera_named = camera_named or _MENTIONS_CAMERA.search(clause) is not None
            if moves | zh_moves:
                segments.append(CameraSegment(moves | zh_moves))
    return CameraPlan(tuple(segments))


def _clause_moves(clause: str) -> frozenset[CameraMove]:
    """English moves named in one clause; earlier, longer patterns claim their words first."""
    taken: list[tuple[int, int]] = []
    found: set[CameraMove] = set()
    for move, pattern in _ENGLISH:
        for match in pattern.finditer(clause):
            span = match.span("move") if "move" in pattern.groupindex else match.span()
            if _claim(taken, span):
                found.add(move)
    return frozenset(found)


def _chinese_moves(clause: str, camera_named: bool) -> tuple[frozenset[CameraMove], bool]:
    """Chinese moves whose subject is the camera in one clause, phrase by phrase.

    ``camera_named`` says the camera was the subject earlier in the sentence; the result
    says whether it still is at the clause's end.
    """
    found: set[CameraMove] = set()
    for phrase in _PHRASE_ZH.split(clause):
        subjects = _camera_subjects(phrase)
        if camera_named and not subjects and _CONTINUES_ZH.match(phrase):
            subjects = [0]  # the phrase goes on with the camera as its subject
        taken: list[tuple[int, int]] = []
        for move, pattern in _CHINESE:
            for match in pattern.finditer(phrase):
                if _acts_on(subjects, match.start()) and _claim(taken, match.span()):
                    found.add(move)
        camera_named = camera_named or bool(subjects)
    return frozenset(found), camera_named


def _camera_subjects(phrase: str) -> list[int]:
    """Where, in ``phrase``, a camera word that is a subject (not a place) ends."""
    ends = []
    for match in _CAMERA_ZH.finditer(phrase):
        rest = phrase[match.end() :]
        is_place = rest[:1] != "" and rest[0] in _PLACE_ZH
        if is_place and not any(pattern.match(rest) for _, pattern in _CHINESE):
            continue
        ends.append(match.end())
    return ends


def _acts_on(subjects: list[int], start: int) -> bool:
    """True if a move word at ``start`` follows one of the camera ``subjects`` closely."""
    return any(0 <= start - end <= _NEAR_ZH for end in subjects)


def _claim(taken: list[tuple[int, int]], span: tuple[int, int]) -> bool:
    """Take ``span`` unless an earlier match holds part of it."""
    if any(span[0] < end and start < span[1] for start, end in taken):
        return False
    taken.append(span)
    return True
