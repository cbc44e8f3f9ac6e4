"""A JSON body is read as JSON whatever Content-Type it came with (`curl -d` sends a form
type), as the real providers do; a body that is not JSON is refused with a message naming
the Content-Type given and the one expected."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import httpx
import pytest

from support.dialects import create_chanjing_key, modelverse_client
from support.files_http import FileServer
from support.live import LiveConch

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def _curl_d(url: str, body: dict[str, Any], *headers: str) -> dict[str, Any]:
    """POST ``body`` as plain `curl -d` sends it: Content-Type x-www-form-urlencoded."""
    command = ["curl", "-s", url, "-d", json.dumps(body)]
    for header in headers:
        command += ["-H", header]
    answer = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    parsed: dict[str, Any] = json.loads(answer.stdout)
    return parsed


def _image_body(files: FileServer) -> dict[str, Any]:
    return {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": files.base_url + "/clip/first.jpg",
        "resolution": "512P",
    }


def test_curl_d_submits_in_the_minimax_dialect(
    conch: LiveConch, key: str, files: FileServer
) -> None:
    url = f"{conch.base_url}/v1/video_generation"
    answer = _curl_d(url, _image_body(files), f"Authorization: Bearer {key}")
    assert answer["base_resp"]["status_code"] == 0, answer
    assert answer["task_id"].isdigit()


def test_curl_d_submits_in_the_modelverse_dialect(
    conch: LiveConch, key: str, files: FileServer
) -> None:
    body = {
        "model": "MiniMax-Hailuo-02",
        "input": {"first_frame_image": files.base_url + "/clip/first.jpg", "prompt": "a meadow"},
        "parameters": {"resolution": "512P"},
    }
    answer = _curl_d(f"{conch.base_url}/v1/tasks/submit", body, f"Authorization: {key}")
    assert answer.get("output", {}).get("task_id"), answer


def test_curl_d_takes_a_chanjing_access_token(conch: LiveConch) -> None:
    app = create_chanjing_key(conch, "curl -d")
    url = f"{conch.base_url}/open/v1/access_token"
    answer = _curl_d(url, {"app_id": app.app_id, "secret_key": app.secret_key})
    assert answer["code"] == 0 and answer["data"]["access_token"], answer


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_names_its_content_type(
    api: httpx.Client, content_type: str
) -> None:
    answer = api.post(
        "/v1/video_generation",
        content=b"model=MiniMax-Hailuo-02",
        headers={"Content-Type": content_type},
    ).json()["base_resp"]
    assert answer["status_code"] == 2013
    assert f"Content-Type: {content_type}" in answer["status_msg"]
    assert "application/json" in answer["status_msg"]


def test_a_modelverse_body_that_is_not_json_is_a_400(conch: LiveConch, key: str) -> None:
    with modelverse_client(conch, key) as client:
        answer = client.post(
            "/v1/tasks/submit", content=b"<xml/>", headers={"Content-Type": "application/xml"}
        )
    assert answer.status_code == 400
    assert "Content-Type: application/xml" in answer.json()["error"]["message"]
