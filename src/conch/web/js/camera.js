// Camera commands as chips: a click puts the command into the prompt at the cursor. Inside a
// bracket of commands, or right after one, it joins that bracket (moves in one bracket act
// together); elsewhere it opens a bracket of its own, which acts after the ones before it.

const OPEN = "[【";
const CLOSE = "]】";
const ITEM_SEPARATOR = /[,，、]/;
const SEPARATOR = { en: ", ", zh: "，" };

function spellingKey(text) {
  return text.trim().toLowerCase().split(/\s+/).join(" ");
}

/** A test of whether a bracket item is a camera command, in either language. */
export function commandSpellings(commands) {
  const known = new Set();
  for (const { en, zh } of commands) {
    known.add(spellingKey(en));
    known.add(zh);
  }
  return (item) => known.has(spellingKey(item));
}

function lastOf(text, marks, at) {
  return at < 0 ? -1 : Math.max(...[...marks].map((mark) => text.lastIndexOf(mark, at)));
}

function firstOf(text, marks, from) {
  const found = [...marks].map((mark) => text.indexOf(mark, from)).filter((i) => i !== -1);
  return found.length ? Math.min(...found) : -1;
}

// The bracket [start, end) (end just past its closing mark) that the caret is in or right
// after; null when there is none. A space after a bracket starts the next one.
function bracketAt(text, caret) {
  const before = text.slice(0, caret);
  if (CLOSE.includes(before.at(-1) ?? "")) {
    const open = lastOf(before, OPEN, before.length - 2);
    const closed = lastOf(before, CLOSE, before.length - 2);
    return open !== -1 && closed < open ? { start: open, end: before.length } : null;
  }
  const open = lastOf(text, OPEN, caret - 1);
  if (open === -1 || lastOf(text, CLOSE, caret - 1) > open) return null;
  const close = firstOf(text, CLOSE, caret);
  const reopens = firstOf(text, OPEN, caret);
  if (close === -1 || (reopens !== -1 && reopens < close)) return null;
  return { start: open, end: close + 1 };
}

function joinBracket(text, bracket, command, language, isCommand) {
  const inner = text.slice(bracket.start + 1, bracket.end - 1);
  const items = inner.split(ITEM_SEPARATOR).map((item) => item.trim()).filter(Boolean);
  if (!items.every(isCommand)) return null; // ordinary bracketed words, not commands
  const already = items.some((item) => spellingKey(item) === spellingKey(command));
  const joined = already ? inner : [...items, command].join(SEPARATOR[language]);
  const open = text[bracket.start];
  const close = text[bracket.end - 1];
  const replaced = `${open}${joined}${close}`;
  const after = bracket.start + replaced.length;
  return { text: text.slice(0, bracket.start) + replaced + text.slice(bracket.end), caret: after };
}

function newBracket(text, start, end, command) {
  const before = text.slice(0, start);
  const after = text.slice(end);
  const spaceBefore = before && !/\s$/.test(before) ? " " : "";
  const spaceAfter = after && !/^[\s.,;:!?，。；：！？、]/.test(after) ? " " : "";
  const inserted = `${spaceBefore}[${command}]`;
  return { text: before + inserted + spaceAfter + after, caret: start + inserted.length };
}

/**
 * ``text`` with ``command`` put in at the selection [start, end); the caret after it.
 * ``isCommand`` tells camera commands from other bracketed words.
 */
export function insertCommand(text, start, end, command, language, isCommand) {
  if (start === end) {
    const bracket = bracketAt(text, start);
    const joined = bracket && joinBracket(text, bracket, command, language, isCommand);
    if (joined) return joined;
  }
  return newBracket(text, start, end, command);
}

/** The chips, wired to ``prompt``; ``language()`` says which spelling to insert. */
export function renderChips(container, commands, prompt, language) {
  const isCommand = commandSpellings(commands);
  for (const command of commands) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.lang = "zh";
    chip.textContent = command.zh;
    const english = document.createElement("span");
    english.lang = "en";
    english.textContent = command.en;
    chip.append(" ", english);
    chip.setAttribute("aria-label", `Add camera move ${command.en} (${command.zh})`);
    chip.addEventListener("click", () => {
      const spelling = command[language()];
      const { selectionStart: start, selectionEnd: end, value } = prompt;
      const result = insertCommand(value, start, end, spelling, language(), isCommand);
      prompt.value = result.text;
      prompt.setSelectionRange(result.caret, result.caret);
      prompt.dispatchEvent(new Event("input", { bubbles: true }));
    });
    container.append(chip);
  }
}
