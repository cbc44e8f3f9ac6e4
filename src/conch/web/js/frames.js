// The first and last frame: picked or dropped, previewed cropped to the video's shape. The
// video takes the first frame's aspect (the last frame's when there is no first), and the
// server crops each picture to it about its centre, as object-fit: cover does here.

/** A picture the person chose: the file and its upright size. */
async function readPicture(file) {
  const url = URL.createObjectURL(file);
  const image = new Image();
  image.src = url;
  try {
    await image.decode();
  } catch {
    URL.revokeObjectURL(url);
    throw new Error(`${file.name} is not a picture this browser can read`);
  }
  return { file, url, width: image.naturalWidth, height: image.naturalHeight };
}

/** ``file`` as a data URL, exactly its bytes: the server judges the picture itself. */
export function dataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

class FramePicker {
  constructor(element, onChange) {
    this.element = element;
    this.role = element.dataset.role;
    this.input = element.querySelector("input[type=file]");
    this.preview = element.querySelector(".preview");
    this.dropText = element.querySelector(".drop-text");
    this.clearButton = element.querySelector("[data-clear]");
    this.error = element.querySelector(".field-error");
    this.picture = null;
    this.onChange = onChange;
    this.input.addEventListener("change", () => this.take(this.input.files[0]));
    this.clearButton.addEventListener("click", () => this.clear());
    this.#acceptDrops(element.querySelector("[data-drop]"));
  }

  #acceptDrops(zone) {
    zone.addEventListener("click", () => this.input.click());
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add("over");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      this.take(event.dataTransfer.files[0]);
    });
  }

  async take(file) {
    if (!file) return;
    try {
      this.#show(await readPicture(file));
    } catch (error) {
      this.clear();
      this.error.textContent = error.message;
    }
  }

  #show(picture) {
    this.#release();
    this.picture = picture;
    this.preview.src = picture.url;
    const which = this.role === "first_frame_image" ? "First" : "Last";
    const { name } = picture.file;
    const size = `${picture.width}×${picture.height}`;
    this.preview.alt = `${which} frame: ${name}, ${size}, cropped as the video will show it`;
    this.preview.hidden = false;
    this.dropText.hidden = true;
    this.clearButton.hidden = false;
    this.error.textContent = "";
    this.onChange();
  }

  #release() {
    if (this.picture) URL.revokeObjectURL(this.picture.url);
    this.picture = null;
  }

  clear() {
    this.#release();
    this.input.value = "";
    this.preview.hidden = true;
    this.preview.removeAttribute("src");
    this.dropText.hidden = false;
    this.clearButton.hidden = true;
    this.onChange();
  }
}

/** Both pickers; ``onChange`` runs whenever a frame is added or removed. */
export class Frames {
  constructor(container, onChange) {
    this.container = container;
    const [first, last] = container.querySelectorAll(".frame");
    const changed = () => {
      this.#reshape();
      onChange();
    };
    this.first = new FramePicker(first, changed);
    this.last = new FramePicker(last, changed);
  }

  /** Which frames are given (for the mode). */
  given() {
    return { first: this.first.picture !== null, last: this.last.picture !== null };
  }

  #reshape() {
    const source = this.first.picture || this.last.picture;
    if (source) this.container.style.setProperty("--aspect", `${source.width} / ${source.height}`);
    else this.container.style.removeProperty("--aspect");
  }

  /** The request fields for the given frames, as data URLs. */
  async fields() {
    const fields = {};
    for (const picker of [this.first, this.last]) {
      if (picker.picture) fields[picker.role] = await dataUrl(picker.picture.file);
    }
    return fields;
  }
}
