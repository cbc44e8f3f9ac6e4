// The player: a finished task's MP4 through a fresh signed link, and its download.

import { settingsWords } from "./words.js";

export class Player {
  constructor(section, api, onError) {
    this.section = section;
    this.api = api;
    this.onError = onError;
    this.video = section.querySelector("video");
    this.download = section.querySelector("#download");
    this.caption = section.querySelector("#player-caption");
    this.heading = section.querySelector("#player-title");
    section.querySelector("#close-player").addEventListener("click", () => this.close());
  }

  async show(task) {
    let link;
    try {
      link = await this.api.retrieve(task.file_id);
    } catch (error) {
      this.onError(error);
      return;
    }
    this.video.src = link.url;
    this.video.setAttribute("aria-label", `Video of task ${task.task_id}`);
    this.download.href = link.url;
    this.download.download = `conch-${task.task_id}.mp4`;
    this.caption.textContent = `${task.prompt || "(no prompt)"} — ${settingsWords(task)}`;
    this.section.hidden = false;
    this.section.scrollIntoView({ block: "nearest" });
    this.heading.focus({ preventScroll: true });
    // Play starts it (the click allows sound); a browser that still refuses leaves the controls.
    this.video.play().catch(() => {});
  }

  close() {
    this.video.pause();
    this.video.removeAttribute("src");
    this.video.load();
    this.section.hidden = true;
  }
}
