"""Text is valid Unicode everywhere: an unpaired surrogate is refused at submit in every
dialect, and one stored before that rule existed never breaks an answer, a page or a push."""

from __future__ import annotations

import json

import httpx

from conch.delivery.bodies import encode
from conch.domain.ids import new_id
from support.dialects import chanjing_client, create_chanjing_key, modelverse_client
from support.files_http import FileServer
from support.live import LiveConch, owner_id, task_store
from support.tasks import text_spec

SURROGATE = "a harbour \ud800 at dusk"
# A surrogate cannot be sent by httpx's own JSON encoder: write the escape by hand.
ESCAPED = json.dumps(SURROGATE)


def _post(client: httpx.Client, path: str, body_with_prompt: str) -> httpx.Response:
    return client.post(
        path, content=body_with_prompt.encode(), headers={"Content-Type": "application/json"}
    )


def test_a_surrogate_in_a_prompt_is_refused_in_every_dialect(
    conch: LiveConch, key: str, files: FileServer, api: httpx.Client
) -> None:
    first = files.base_url + "/clip/first.jpg"
    minimax = _post(
        api,
        "/v1/video_generation",
        f'{{"model": "MiniMax-Hailuo-02", "first_frame_image": "{first}", "prompt": {ESCAPED}}}',
    ).json()["base_resp"]
    assert minimax["status_code"] == 2013
    assert minimax["status_msg"].startswith("prompt: must be valid Unicode text")
    with modelverse_client(conch, key) as client:
        modelverse = _post(
            client,
            "/v1/tasks/submit",
            f'{{"model": "MiniMax-Hailuo-02", "input": {{"first_frame_image": "{first}", '
            f'"prompt": {ESCAPED}}}}}',
        )
    assert modelverse.status_code == 400 and modelverse.json()["error"]["param"] == "input.prompt"
    with chanjing_client(conch, create_chanjing_key(conch, "surrogates")) as client:
        chanjing = _post(
            client,
            "/open/v1/ai_creation/task/submit",
            f'{{"model_code": "MiniMax-Hailuo-02", "start_frame": "{first}", '
            f'"video_duration": 6, "ref_prompt": {ESCAPED}}}',
        ).json()
    assert chanjing["code"] == 40000 and chanjing["msg"].startswith("ref_prompt: must be valid")


def test_a_surrogate_stored_earlier_still_reads_and_pushes(conch: LiveConch) -> None:
    app = create_chanjing_key(conch, "stored surrogate")
    owner = owner_id(conch.data_dir, app.key)
    spec = text_spec(SURROGATE, callback_url="https://hooks.example.com/x")
    task = task_store(conch.data_dir).create(
        task_id=new_id(), owner_id=owner, dialect="chanjing", spec=spec, inputs={}
    )
    with chanjing_client(conch, app) as client:
        one = client.get("/open/v1/ai_creation/task", params={"unique_id": task.uuid}).json()
        page = client.post("/open/v1/ai_creation/task/page", json={}).json()
    assert one["code"] == 0 and one["data"]["motion_info"]["ref_prompt"] == SURROGATE
    assert page["code"] == 0 and [t["unique_id"] for t in page["data"]["list"]] == [task.uuid]
    with conch.client(app.key) as client:
        listed = client.get("/v1/tasks").json()
    assert listed["tasks"][0]["prompt"] == SURROGATE
    assert json.loads(encode({"prompt": SURROGATE})) == {"prompt": SURROGATE}
