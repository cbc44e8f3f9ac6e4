// The key's tasks, newest first, paged: each with a thumbnail, its prompt and settings, and
// its state, kept live by polling conch's own task list (the task table is the one source of
// truth; nothing here keeps a second one).

import { isFinished, settingsWords, stateWords } from "./words.js";

const PAGE = 10;
const MAX_PAGE = 100; // the most the task list gives in one page
const POLL_MS = 1000; // while a shown task is unfinished
const IDLE_POLL_MS = 15000; // otherwise: picks up tasks other clients submit
const RETRY_MS = 5000;

export class History {
  constructor(section, template, api, { onPlay, onReuse, onSignedOut, announce }) {
    this.list = section.querySelector("#tasks");
    this.empty = section.querySelector("#history-empty");
    this.error = section.querySelector("#history-error");
    this.moreButton = section.querySelector("#more");
    this.template = template;
    this.api = api;
    this.handlers = { onPlay, onReuse, onSignedOut, announce };
    this.items = new Map();
    this.hasMore = false;
    this.timer = null;
    this.stopped = false;
    this.moreButton.addEventListener("click", () => this.more());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.#schedule(0);
    });
  }

  /** Show the first page (already fetched when signing in) and follow it. */
  start(firstPage) {
    this.#merge(firstPage.tasks, "top");
    this.hasMore = firstPage.has_more;
    this.#showPaging();
    this.#schedule();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Read every shown task afresh (and any new ones); poll on while any is unfinished. */
  async refresh() {
    const limit = Math.min(Math.max(PAGE, this.items.size), MAX_PAGE);
    try {
      const page = await this.api.tasks({ limit });
      this.error.textContent = "";
      this.#merge(page.tasks, "top");
      this.#schedule();
    } catch (error) {
      this.#failed(error);
    }
  }

  async more() {
    const oldest = this.list.lastElementChild;
    this.moreButton.disabled = true;
    try {
      const page = await this.api.tasks({ limit: PAGE, after: oldest.dataset.taskId });
      this.#merge(page.tasks, "bottom");
      this.hasMore = page.has_more;
      this.#showPaging();
      this.#schedule();
    } catch (error) {
      this.#failed(error);
    } finally {
      this.moreButton.disabled = false;
    }
  }

  #failed(error) {
    if (error.signedOut) {
      this.stop();
      this.handlers.onSignedOut(error);
      return;
    }
    this.error.textContent = `The list could not be read: ${error.message}. Trying again…`;
    this.#schedule(RETRY_MS);
  }

  // The next refresh: soon while a task is unfinished, now and then otherwise; none while
  // the page is hidden (it resumes when the page shows again).
  #schedule(delay = null) {
    clearTimeout(this.timer);
    if (this.stopped || document.visibilityState === "hidden") return;
    const unfinished = [...this.items.values()].some((item) => !isFinished(item.task));
    const wait = delay ?? (unfinished ? POLL_MS : IDLE_POLL_MS);
    this.timer = setTimeout(() => this.refresh(), wait);
  }

  #merge(tasks, where) {
    const added = [];
    for (const task of tasks) {
      const known = this.items.get(task.task_id);
      if (known) this.#update(known, task);
      else added.push(this.#add(task));
    }
    if (where === "top") this.list.prepend(...added);
    else this.list.append(...added);
    this.empty.hidden = this.items.size > 0;
  }

  #showPaging() {
    this.moreButton.hidden = !this.hasMore;
  }

  #add(task) {
    const element = this.template.content.firstElementChild.cloneNode(true);
    element.dataset.taskId = task.task_id;
    const item = { element, task: null, thumbnailed: false };
    const progress = element.querySelector("progress");
    progress.setAttribute("aria-label", `Progress of task ${task.task_id}`);
    // The buttons are told apart by the prompt of their task.
    const prompt = element.querySelector(".task-prompt");
    prompt.id = `prompt-${task.task_id}`;
    for (const button of element.querySelectorAll("button")) {
      button.setAttribute("aria-describedby", prompt.id);
    }
    const { onPlay, onReuse } = this.handlers;
    element.querySelector("[data-play]").addEventListener("click", () => onPlay(item.task));
    element.querySelector(".thumb").addEventListener("click", () => {
      if (item.task.status === "success") onPlay(item.task);
    });
    element.querySelector("[data-reuse]").addEventListener("click", () => onReuse(item.task));
    element.querySelector("[data-cancel]").addEventListener("click", () => this.#cancel(item));
    this.items.set(task.task_id, item);
    this.#update(item, task);
    return element;
  }

  #update(item, task) {
    const before = item.task;
    item.task = task;
    const { element } = item;
    element.dataset.status = task.status;
    element.querySelector(".task-prompt").textContent = task.prompt || "(no prompt)";
    element.querySelector(".task-settings").textContent = settingsWords(task);
    element.querySelector(".task-state").textContent = stateWords(task);
    const progress = element.querySelector("progress");
    progress.value = task.progress;
    progress.hidden = task.status === "fail" || task.status === "cancelled";
    element.querySelector("[data-play]").hidden = task.status !== "success";
    element.querySelector("[data-cancel]").hidden = isFinished(task);
    if (task.status === "success" && !item.thumbnailed) this.#thumbnail(item);
    if (before && !isFinished(before) && isFinished(task)) {
      this.handlers.announce(`Task ${task.task_id}: ${stateWords(task)}`);
    }
  }

  // Cancel through the public API; the list shows the task as conch now has it. A task
  // that ended meanwhile is refused with the reason, shown where the list's errors go.
  async #cancel(item) {
    const button = item.element.querySelector("[data-cancel]");
    button.disabled = true;
    try {
      this.#update(item, await this.api.cancel(item.task.task_id));
      this.error.textContent = "";
    } catch (error) {
      if (error.signedOut) return this.#failed(error);
      this.error.textContent = `Task ${item.task.task_id} was not cancelled: ${error.message}`;
      this.refresh();
    } finally {
      button.disabled = false;
    }
  }

  // The video's own first moments as its thumbnail, through a fresh signed link.
  async #thumbnail(item) {
    item.thumbnailed = true;
    try {
      const { url } = await this.api.retrieve(item.task.file_id);
      const video = document.createElement("video");
      video.muted = true;
      video.preload = "metadata";
      video.tabIndex = -1;
      video.src = `${url}#t=0.5`;
      item.element.querySelector(".thumb").replaceChildren(video);
    } catch {
      item.thumbnailed = false; // tried again on the next refresh
    }
  }
}
