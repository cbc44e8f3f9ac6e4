// The "Make a video" form: frames, prompt, camera chips, the settings the catalog allows for
// the mode the frames make, the watermark switch; and the submit, whose refusal is shown at
// the field the server names.

import { renderChips } from "./camera.js";
import { MODE_NAMES, allDurations, modeOf, settle } from "./choices.js";
import { Frames } from "./frames.js";

const MODE_HELP = {
  "text-to-video": "with no frame, the video comes from the prompt alone.",
  "image-to-video": "the video starts on the first frame.",
  "first-last-frame": "the video moves from the first frame to the last.",
};

// The control to focus for each field a server message can name.
const FIELD_CONTROLS = {
  model: "#model",
  prompt: "#prompt",
  first_frame_image: "#first-frame",
  last_frame_image: "#last-frame",
  resolution: "#resolution input:checked",
  duration: "#duration input:checked",
  aigc_watermark: "#watermark",
};

function radios(container, name, values, label) {
  for (const value of values) {
    const option = document.createElement("label");
    option.className = "segment";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = String(value);
    option.append(input, label(value));
    container.append(option);
  }
  return [...container.querySelectorAll("input")];
}

function reasonLine(choices, unit = "") {
  const refused = choices.filter((c) => !c.allowed);
  if (!refused.length) return "";
  const names = refused.map((c) => `${c.value}${unit}`).join(", ");
  return `${names}: not available, as ${refused[0].reason}.`;
}

export class MakeForm {
  constructor(form, catalog, api, { onSubmitted, onSignedOut }) {
    this.form = form;
    this.catalog = catalog;
    this.api = api;
    this.handlers = { onSubmitted, onSignedOut };
    this.wanted = { model: null, resolution: null, duration: null };
    this.$ = (selector) => form.querySelector(selector);
    this.frames = new Frames(this.$(".frames"), () => this.update());
    this.#buildControls();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.update();
  }

  #buildControls() {
    const { catalog } = this;
    const model = this.$("#model");
    for (const each of catalog.models) model.add(new Option(each.name, each.name));
    model.addEventListener("change", () => this.#want({ model: model.value }));
    this.tierInputs = radios(this.$("#resolution"), "resolution", catalog.resolutions, (t) => t);
    const durations = allDurations(catalog);
    this.durationInputs = radios(this.$("#duration"), "duration", durations, (d) => `${d} s`);
    for (const input of this.tierInputs) {
      input.addEventListener("change", () => this.#want({ resolution: input.value }));
    }
    for (const input of this.durationInputs) {
      input.addEventListener("change", () => this.#want({ duration: Number(input.value) }));
    }
    const prompt = this.$("#prompt");
    prompt.addEventListener("input", () => this.#count());
    const language = () => this.$("input[name=camera-language]:checked").value;
    renderChips(this.$("#chips"), catalog.camera_commands, prompt, language);
    this.#count();
  }

  #want(change) {
    Object.assign(this.wanted, change);
    this.update();
  }

  #count() {
    const length = this.$("#prompt").value.length;
    const counter = this.$("#prompt-count");
    counter.textContent = `${length} / ${this.catalog.max_prompt_chars} characters`;
    counter.classList.toggle("over", length > this.catalog.max_prompt_chars);
  }

  /** Show the choices the catalog allows for the frames given, keeping what is wanted. */
  update() {
    const mode = modeOf(this.frames.given());
    const { model, tier, duration, choices } = settle(this.catalog, mode, this.wanted);
    this.mode = mode;
    this.$("#mode").textContent = `Mode: ${MODE_NAMES[mode]} — ${MODE_HELP[mode]}`;
    const select = this.$("#model");
    for (const [index, choice] of choices.models.entries()) {
      const option = select.options[index];
      option.disabled = !choice.allowed;
      option.textContent = choice.allowed ? choice.value : `${choice.value} (${choice.reason})`;
    }
    select.value = model.name;
    const refused = choices.models.filter((c) => !c.allowed).length;
    this.$("#model-reason").textContent = refused
      ? `${refused} models are greyed out: they do not make ${MODE_NAMES[mode]}.`
      : "";
    this.#mark(this.tierInputs, choices.tiers, tier);
    this.$("#resolution-reason").textContent = reasonLine(choices.tiers);
    this.#mark(this.durationInputs, choices.durations, duration);
    this.$("#duration-reason").textContent = reasonLine(choices.durations, " s");
    this.#camera(model);
  }

  #mark(inputs, choices, chosen) {
    for (const [index, input] of inputs.entries()) {
      input.disabled = !choices[index].allowed;
      input.checked = input.value === String(chosen);
      input.parentElement.title = choices[index].reason;
    }
  }

  #camera(model) {
    const chips = this.$("#chips");
    for (const chip of chips.children) chip.disabled = !model.camera_commands;
    this.$("#camera-reason").textContent = model.camera_commands
      ? ""
      : `${model.name} does not take camera commands: brackets stay in its prompt as words.`;
  }

  #request() {
    return {
      model: this.$("#model").value,
      prompt: this.$("#prompt").value,
      duration: Number(this.$("#duration input:checked").value),
      resolution: this.$("#resolution input:checked").value,
      aigc_watermark: this.$("#watermark").checked,
    };
  }

  async submit() {
    this.#clearErrors();
    const button = this.$("#submit");
    const status = this.$("#submitted");
    button.disabled = true;
    status.textContent = "Sending…";
    try {
      const request = { ...this.#request(), ...(await this.frames.fields()) };
      const taskId = await this.api.submit(request);
      status.textContent = `Task ${taskId} is queued: follow it under “Your videos”.`;
      this.handlers.onSubmitted(taskId);
    } catch (error) {
      status.textContent = "";
      if (error.signedOut) this.handlers.onSignedOut(error);
      else this.#showError(error);
    } finally {
      button.disabled = false;
    }
  }

  #showError(error) {
    const at = error.field && this.$(`#error-${CSS.escape(error.field)}`);
    (at || this.$("#error-form")).textContent = error.message;
    const control = at && this.$(FIELD_CONTROLS[error.field]);
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.focus();
    }
  }

  #clearErrors() {
    for (const message of this.form.querySelectorAll(".field-error")) message.textContent = "";
    for (const control of this.form.querySelectorAll("[aria-invalid]")) {
      control.removeAttribute("aria-invalid");
    }
  }

  /** Put a task's settings in the form (its pictures stay with the server; pick them again). */
  reuse(task) {
    this.$("#prompt").value = task.prompt;
    this.#count();
    this.$("#watermark").checked = task.aigc_watermark;
    this.wanted = { model: task.model, resolution: task.resolution, duration: task.duration };
    this.update();
    const frames = {
      "image-to-video": "Pick its first frame again to render it the same way.",
      "first-last-frame": "Pick its first and last frames again to render it the same way.",
    }[task.mode];
    const note = frames && this.mode !== task.mode ? ` ${frames}` : "";
    const done = `The settings of task ${task.task_id} are in the form.`;
    this.$("#submitted").textContent = done + note;
    const title = document.getElementById("make-title");
    title.focus({ preventScroll: true });
    title.scrollIntoView({ block: "start" });
  }
}
