"""conch serve on PostgreSQL instead of SQLite: the same service, end to end."""

from __future__ import annotations

from pathlib import Path

from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch, wait_for_task


def test_a_server_on_postgresql_renders_and_serves_a_task(
    postgres_url: str, tmp_path: Path, files: FileServer
) -> None:
    server = LiveConch(tmp_path, {**SERVER_ENV, "CONCH_DATABASE_URL": postgres_url})
    key = server.create_key()
    body = {"model": "I2V-01", "first_frame_image": files.base_url + "/photo/rocket.jpg"}
    with server, server.client(key) as client:
        task_id = client.post("/v1/video_generation", json=body).json()["task_id"]
        done = wait_for_task(client, task_id)
        assert done["status"] == "Success", (done, server.log())
        assert (done["video_width"], done["video_height"]) == (1080, 720)
        retrieved = client.get("/v1/files/retrieve", params={"file_id": done["file_id"]}).json()
        assert retrieved["file"]["bytes"] > 0
    assert not (tmp_path / "conch.db").exists()  # nothing went to SQLite
