// conch's public API, as the studio calls it: the MiniMax dialect to submit, query and
// retrieve, and conch's own task list and cancel call. Nothing here reaches past what any client may do.

const SUBMIT = "v1/video_generation";
const RETRIEVE = "v1/files/retrieve";
const TASKS = "v1/tasks";
const CANCEL = (taskId) => `v1/tasks/${encodeURIComponent(taskId)}/cancel`;
const CATALOG = "studio/catalog.json";

/** A refusal from the server, with the request field it names when it names one. */
export class ApiError extends Error {
  constructor(message, { field = null, status = 0, signedOut = false } = {}) {
    super(message);
    this.field = field;
    this.status = status;
    this.signedOut = signedOut;
  }
}

// Every field message reads "<field>: <what was wrong and what is allowed>".
const FIELD_MESSAGE = /^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*): /;

/** The field a server message names, or null. */
export function fieldOf(message) {
  const match = FIELD_MESSAGE.exec(message);
  return match ? match[1] : null;
}

// MiniMax's codes for a key that is missing or not known.
const SIGNED_OUT_CODES = new Set([1004, 2049]);

function minimaxError(baseResp) {
  const message = baseResp.status_msg || `refused with code ${baseResp.status_code}`;
  return new ApiError(message, {
    field: fieldOf(message),
    signedOut: SIGNED_OUT_CODES.has(baseResp.status_code),
  });
}

export async function loadCatalog() {
  const answer = await fetch(CATALOG);
  if (!answer.ok) throw new ApiError(`the catalog did not load (HTTP ${answer.status})`);
  return answer.json();
}

/** The API under one key. */
export class Api {
  constructor(key) {
    this.key = key;
  }

  async #send(path, init = {}) {
    const headers = { Authorization: `Bearer ${this.key}`, ...(init.headers || {}) };
    let answer;
    try {
      answer = await fetch(path, { ...init, headers });
    } catch (error) {
      throw new ApiError(`conch did not answer (${error.message}); is it still running?`);
    }
    const body = await answer.json().catch(() => null);
    if (body === null) throw new ApiError(`conch answered HTTP ${answer.status} without JSON`);
    return { answer, body };
  }

  async #minimax(path, init) {
    const { body } = await this.#send(path, init);
    if (body.base_resp && body.base_resp.status_code !== 0) throw minimaxError(body.base_resp);
    return body;
  }

  /** Submit a generation request (MiniMax's body); the new task's id. */
  async submit(request) {
    const body = await this.#minimax(SUBMIT, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
    });
    return body.task_id;
  }

  /** A fresh signed download link for a file, and its name. */
  async retrieve(fileId) {
    const query = new URLSearchParams({ file_id: fileId });
    const body = await this.#minimax(`${RETRIEVE}?${query}`);
    return { url: body.file.download_url, filename: body.file.filename };
  }

  // conch's own calls answer real HTTP statuses, errors as {"error": {"code", "message"}}.
  async #native(path, init) {
    const { answer, body } = await this.#send(path, init);
    if (!answer.ok) {
      const message = body.error ? body.error.message : `HTTP ${answer.status}`;
      throw new ApiError(message, {
        field: fieldOf(message),
        status: answer.status,
        signedOut: answer.status === 401,
      });
    }
    return body;
  }

  /** One page of the key's tasks, newest first (conch's own list). */
  async tasks({ limit, after = null }) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (after) query.set("after", after);
    return this.#native(`${TASKS}?${query}`);
  }

  /** Cancel a queued or running task; the task as it now stands. */
  async cancel(taskId) {
    return this.#native(CANCEL(taskId), { method: "POST" });
  }
}
