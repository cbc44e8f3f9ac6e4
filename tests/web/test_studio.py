"""The web studio in a real Chromium against a live conch, with real photos: sign in, make a
video from two photos with a camera move, watch it reach 100, play it, download it and
decode the file, find it in the history after a reload; a refused submit shows the
server's own message at the field it names; the start banner's link signs in.

Every step is waited for on the page's state, never on a clock; each leaves a screenshot
in the test's temporary folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

from conch.media.video import probe
from support.live import SERVER_ENV, LiveConch
from support.photos import data_url, encode, photo

Shots = Callable[[str], Path]

# Rendering is waited for, not timed: this only bounds how long a broken run hangs.
RENDER_WAIT_MS = 300_000


def picture(folder: Path, name: str) -> Path:
    """A real photo from skimage, as a JPEG file a person would pick."""
    path = folder / f"{name}.jpg"
    path.write_bytes(encode(photo(name)))
    return path


def frame_input(page: Page, label: str) -> Locator:
    """The file input of the frame labelled ``label`` ("First frame", "Last frame ...")."""
    return page.get_by_label(label, exact=True)


def sign_in(page: Page, conch: LiveConch, key: str) -> None:
    page.goto(conch.base_url + "/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Make a video")).to_be_visible()


def task_item(page: Page, task_id: str) -> Locator:
    """The history's entry for task ``task_id``."""
    return page.locator(f'li.task[data-task-id="{task_id}"]')


def submit_two_photos_with_a_camera_move(page: Page, tmp_path: Path, shot: Shots) -> str:
    """Upload two photos, add a camera chip, submit; the new task's id."""
    frame_input(page, "First frame").set_input_files(picture(tmp_path, "astronaut"))
    frame_input(page, "Last frame (optional)").set_input_files(picture(tmp_path, "coffee"))
    previews = page.locator(".frame .preview")
    expect(previews.nth(0)).to_be_visible()
    expect(previews.nth(1)).to_be_visible()
    expect(page.locator("#mode")).to_contain_text("first and last frame")
    # Two frames make first+last-frame mode, which no model offers at 512P: it cannot be
    # chosen, and the page says why. The render is 768P, square (the astronaut's shape):
    # about as many pixels as a 16:9 512P one.
    expect(page.get_by_role("radio", name="512P")).to_be_disabled()
    expect(page.locator("#resolution-reason")).to_contain_text("768P, 1080P")
    shot("photos")

    page.get_by_label("Prompt").fill("an astronaut turns into a cup of coffee ")
    page.get_by_role("button", name="Add camera move Push in (推进)").click()
    expect(page.get_by_label("Prompt")).to_have_value(
        "an astronaut turns into a cup of coffee [Push in]"
    )
    shot("camera-chip")

    page.get_by_role("button", name="Make the video").click()
    status = page.locator("#submitted")
    expect(status).to_contain_text("is queued")
    task_id = status.inner_text().split()[1]
    shot("submitted")
    return task_id


def test_a_video_from_two_photos_is_made_watched_played_downloaded_and_kept(
    page: Page, conch: LiveConch, key: str, tmp_path: Path, shot: Shots
) -> None:
    sign_in(page, conch, key)
    shot("signed-in")
    task_id = submit_two_photos_with_a_camera_move(page, tmp_path, shot)

    item = task_item(page, task_id)
    expect(item).to_contain_text("[Push in]")
    expect(item.locator("progress")).to_have_attribute("value", "100", timeout=RENDER_WAIT_MS)
    expect(item.locator(".task-state")).to_have_text("Done: 100%")
    expect(item.locator(".task-settings")).to_contain_text("first and last frame · 6 s · 768P")
    shot("done")

    item.get_by_role("button", name="Play").click()
    video = page.locator("#player-video")
    page.wait_for_function("v => v.readyState >= 1 && !v.paused", arg=video.element_handle())
    assert video.evaluate("v => v.duration") == 6
    shot("playing")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download MP4").click()
    saved = tmp_path / "downloaded.mp4"
    download.value.save_as(saved)
    decoded = probe(saved)
    assert (decoded.width, decoded.height, decoded.frames, decoded.codec) == (768, 768, 144, "h264")

    page.reload()
    kept = task_item(page, task_id)
    expect(kept).to_contain_text("an astronaut turns into a cup of coffee [Push in]")
    expect(kept.locator(".task-state")).to_have_text("Done: 100%")
    expect(kept.locator(".thumb video")).to_be_attached()
    shot("history-after-reload")


def test_a_refused_submit_shows_the_servers_message_at_its_field(
    page: Page, conch: LiveConch, key: str, tmp_path: Path, shot: Shots
) -> None:
    # chelsea is 451x300: conch wants a short side over 300 px, which only it checks.
    small = picture(tmp_path, "chelsea")
    with conch.client(key) as api:
        body = {"model": "MiniMax-Hailuo-02", "first_frame_image": data_url(small.read_bytes())}
        refusal = api.post("/v1/video_generation", json=body).json()["base_resp"]
    assert refusal["status_code"] == 2013

    sign_in(page, conch, key)
    frame_input(page, "First frame").set_input_files(small)
    page.get_by_role("button", name="Make the video").click()
    expect(page.locator("#error-first_frame_image")).to_have_text(refusal["status_msg"])
    expect(frame_input(page, "First frame")).to_be_focused()
    expect(page.locator("#error-form")).to_be_empty()
    shot("refused")


def test_the_banner_link_signs_in_by_its_fragment_which_no_log_sees(
    page: Page, conch: LiveConch, banner_link: str, key: str, shot: Shots
) -> None:
    page.goto(banner_link)
    expect(page.get_by_role("heading", name="Make a video")).to_be_visible()
    expect(page.locator("#who")).to_have_text(f"Key {key[:15]}…")
    assert "#key" not in page.url  # cleared from the address bar once kept
    shot("signed-in-by-link")
    # The server logged the requests the page made, but never the key in an address.
    served = conch.log().split("Application startup complete", 1)[1]
    assert "GET / " in served and key not in served
    with httpx.Client(base_url=conch.base_url) as anonymous:
        assert anonymous.get("/v1/tasks").status_code == 401


def test_a_queued_task_is_cancelled_from_its_history_entry(
    page: Page, tmp_path: Path, shot: Shots
) -> None:
    # A conch with no runners: the task waits in the queue until the page cancels it.
    with LiveConch(tmp_path / "idle", {**SERVER_ENV, "CONCH_WORKERS": "0"}) as idle:
        key = idle.create_key("studio")
        body = {
            "model": "MiniMax-Hailuo-02",
            "first_frame_image": data_url(encode(photo("coffee"))),
        }
        with idle.client(key) as api:
            task_id = api.post("/v1/video_generation", json=body).json()["task_id"]
        sign_in(page, idle, key)
        item = task_item(page, task_id)
        expect(item.locator(".task-state")).to_contain_text("Waiting")
        assert item.get_by_role("button", name="Play").is_hidden()
        shot("queued")

        item.get_by_role("button", name="Cancel").click()
        expect(item.locator(".task-state")).to_have_text("Cancelled")
        expect(item.get_by_role("button", name="Cancel")).to_be_hidden()
        with idle.client(key) as api:
            listed = api.get("/v1/tasks").json()["tasks"]
        assert [(task["task_id"], task["status"]) for task in listed] == [(task_id, "cancelled")]
        shot("cancelled")
