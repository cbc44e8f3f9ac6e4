"""model_answer: the bytes JSONAnswer writes for a typed model, written by pydantic."""

from __future__ import annotations

import json

import pytest

from conch.api.responses import JSONAnswer, model_answer
from conch.wire.chanjing import Page, PageInfo
from conch.wire.minimax import OK, BaseResp, QueryAnswer


@pytest.mark.parametrize(
    "answer",
    [
        QueryAnswer(task_id="1", status="Queueing", file_id="", base_resp=OK),
        QueryAnswer(
            task_id="2",
            status="Success",
            file_id="3",
            video_width=1280,
            video_height=720,
            base_resp=OK,
        ),
        QueryAnswer(
            task_id="4",
            status="Fail",
            file_id="",
            base_resp=BaseResp(status_code=1026, status_msg='敏感 "内容"\n<\u2028>\x7f'),
        ),
    ],
)
@pytest.mark.parametrize("exclude_none", [True, False])
def test_a_model_answer_is_what_json_answer_writes(answer: QueryAnswer, exclude_none: bool) -> None:
    written = model_answer(answer, exclude_none=exclude_none)
    expected = JSONAnswer(answer.model_dump(by_alias=True, exclude_none=exclude_none))
    assert written.body == expected.body
    assert written.headers == expected.headers
    assert written.status_code == 200


def test_fields_are_written_by_alias_as_fastapi_writes_a_response_model() -> None:
    page = Page.model_validate(
        {
            "list": [],
            "total": 0,
            "page_info": PageInfo(page=1, size=10, total_count=0, total_page=0),
        }
    )
    assert json.loads(model_answer(page).body)["list"] == []


def test_a_text_that_cannot_be_utf8_is_escaped_not_refused() -> None:
    answer = QueryAnswer(
        task_id="5",
        status="Fail",
        file_id="",
        base_resp=BaseResp(status_code=1000, status_msg="bad \ud800 text"),
    )
    written = model_answer(answer, exclude_none=True)
    assert b"\\ud800" in written.body
    assert json.loads(written.body)["base_resp"]["status_msg"] == "bad \ud800 text"
