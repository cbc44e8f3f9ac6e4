// The signed-in key: kept in this tab's session storage, never in a cookie, a path or a query.
// The start banner's link carries it in the URL fragment (#key=...), which browsers never
// send to a server; the page takes it from there and clears it from the address bar.

const STORAGE = "conch.apiKey";

/** The key a link brought in its fragment, removed from the address bar; or null. */
export function takeKeyFromFragment() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const key = fragment.get("key");
  if (key === null) return null;
  fragment.delete("key");
  const rest = fragment.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
  window.history.replaceState(null, "", url);
  return key.trim() || null;
}

export function storedKey() {
  return window.sessionStorage.getItem(STORAGE);
}

export function keepKey(key) {
  window.sessionStorage.setItem(STORAGE, key);
}

export function forgetKey() {
  window.sessionStorage.removeItem(STORAGE);
}

/** The start of a key, as `conch keys list` shows it: enough to tell keys apart. */
export function keyLabel(key) {
  return key.length > 15 ? `${key.slice(0, 15)}…` : key;
}
