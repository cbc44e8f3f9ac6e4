// How a task reads to a person: its settings in one line and its state in words.

import { MODE_NAMES } from "./choices.js";

const TERMINAL = new Set(["success", "fail", "cancelled"]);

export function isFinished(task) {
  return TERMINAL.has(task.status);
}

function ordinal(n) {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${{ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th"}`;
}

function queued(task) {
  const place = task.queue_position;
  if (place === null || place === undefined) return "Waiting in the queue";
  if (place === 1) return "Waiting: next in the queue";
  return `Waiting: ${ordinal(place)} in the queue`;
}

/** The task's state in words (a failed task's error included). */
export function stateWords(task) {
  switch (task.status) {
    case "queued":
      return queued(task);
    case "preparing":
      return "Preparing the pictures";
    case "processing":
      return `Rendering: ${task.progress}%`;
    case "success":
      return "Done: 100%";
    case "fail":
      return task.error ? `Failed: ${task.error.message}` : "Failed";
    case "cancelled":
      return "Cancelled";
    default:
      return task.status;
  }
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Model, mode, duration, resolution, watermark and when, in one line. */
export function settingsWords(task) {
  const parts = [
    task.model,
    MODE_NAMES[task.mode] || task.mode,
    `${task.duration} s`,
    task.resolution,
  ];
  if (task.aigc_watermark) parts.push("watermarked");
  parts.push(TIME.format(new Date(task.created_at * 1000)));
  return parts.join(" · ");
}
