// The studio's start: sign in (by the start banner's link, this tab's stored key, or the
// form), then the form, the player and the live history over one key.

import { Api, loadCatalog } from "./api.js";
import { History } from "./history.js";
import { MakeForm } from "./make.js";
import { Player } from "./player.js";
import { forgetKey, keepKey, keyLabel, storedKey, takeKeyFromFragment } from "./session.js";

const FIRST_PAGE = 10;
const $ = (selector) => document.querySelector(selector);

function announce(text) {
  $("#announce").textContent = text;
}

function showSignIn(message = "") {
  $("#loading").hidden = true;
  $("#studio").hidden = true;
  $("#who").hidden = true;
  $("#sign-out").hidden = true;
  $("#sign-in").hidden = false;
  $("#error-api-key").textContent = message;
  $("#api-key").toggleAttribute("aria-invalid", Boolean(message));
  $("#api-key").focus();
}

function refused(error) {
  const what = error.signedOut ? "That key was refused" : "Could not sign in";
  return `${what}: ${error.message}`;
}

function signedOut(error) {
  forgetKey();
  showSignIn(`Signed out: ${error.message}`);
}

function openStudio(api, catalog, firstPage) {
  $("#loading").hidden = true;
  $("#sign-in").hidden = true;
  $("#studio").hidden = false;
  $("#who").textContent = `Key ${keyLabel(api.key)}`;
  $("#who").hidden = false;
  $("#sign-out").hidden = false;
  const player = new Player($("#player"), api, (error) => {
    $("#history-error").textContent = `The video could not be opened: ${error.message}`;
  });
  let form = null;
  const history = new History($("#history"), $("#task-template"), api, {
    onPlay: (task) => player.show(task),
    onReuse: (task) => form.reuse(task),
    onSignedOut: signedOut,
    announce,
  });
  form = new MakeForm($("#make-form"), catalog, api, {
    onSubmitted: () => history.refresh(),
    onSignedOut: (error) => {
      history.stop();
      signedOut(error);
    },
  });
  history.start(firstPage);
}

/** Check ``key`` by reading the first page of its tasks; open the studio with it. */
async function signIn(key, catalog) {
  const api = new Api(key);
  const firstPage = await api.tasks({ limit: FIRST_PAGE });
  keepKey(key);
  openStudio(api, catalog, firstPage);
}

async function start() {
  const catalog = await loadCatalog();
  $("#sign-out").addEventListener("click", () => {
    forgetKey();
    window.location.reload();
  });
  $("#sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("#api-key").value.trim();
    if (!key) {
      showSignIn("Enter your API key.");
      return;
    }
    try {
      await signIn(key, catalog);
    } catch (error) {
      showSignIn(refused(error));
    }
  });
  // A link with a key opened in a tab already showing the studio changes only the fragment.
  window.addEventListener("hashchange", () => {
    const linked = takeKeyFromFragment();
    if (!linked) return;
    keepKey(linked);
    window.location.reload();
  });
  const key = takeKeyFromFragment() || storedKey();
  if (!key) {
    showSignIn();
    return;
  }
  try {
    await signIn(key, catalog);
  } catch (error) {
    if (error.signedOut) forgetKey();
    showSignIn(refused(error));
    if (!error.signedOut) $("#api-key").value = key; // conch was unreachable: try again
  }
}

start().catch((error) => {
  $("#loading").textContent = `The studio could not start: ${error.message}`;
});
