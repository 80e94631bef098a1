/* Kindred: the seeker's return key (issue 13), kept on this device only if they opt in.
 *
 * localStorage "kindred.returnKey" holds {key, alias, savedAt}: a random key (32 bytes from
 * crypto.getRandomValues, base64url), the alias of the volunteer it leads to, and when that
 * was last true (epoch ms). The server keeps only the key's SHA-256 and the volunteer's
 * account id, for config.returnKeyDays; past that the page drops the key too. Nothing is
 * stored unless the seeker ticks the box; Quick exit and "Forget me" remove it.
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var STORE = "kindred.returnKey";
  var DAY_MS = 86400 * 1000;

  function base64url(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i += 1) text += String.fromCharCode(bytes[i]);
    return window.btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** A new key: 256 random bits (the server accepts 128 bits and more). */
  function newKey() {
    var bytes = new Uint8Array(32);
    window.crypto.getRandomValues(bytes);
    return base64url(bytes);
  }

  function write(record) {
    try {
      window.localStorage.setItem(STORE, JSON.stringify(record));
      return true;
    } catch (err) {
      return false; // storage disabled: no key can be kept, nothing was sent
    }
  }

  /** The key kept on this device, if any and not older than `days`; an old one is dropped. */
  function load(days) {
    var record = null;
    try {
      record = JSON.parse(window.localStorage.getItem(STORE) || "null");
    } catch (err) {
      record = null;
    }
    if (!record || typeof record.key !== "string" || typeof record.savedAt !== "number") return null;
    if (!days || Date.now() - record.savedAt > days * DAY_MS) {
      drop();
      return null;
    }
    return record;
  }

  /** Opt in: a new key for the volunteer `alias`; the record, or null if it can't be kept. */
  function make(alias) {
    var record = { key: newKey(), alias: alias || "", savedAt: Date.now() };
    return write(record) ? record : null;
  }

  /** A chat started with the key: it now leads to `alias`, from now (as on the server). */
  function repoint(record, alias) {
    if (!record) return null;
    var updated = { key: record.key, alias: alias || record.alias, savedAt: Date.now() };
    write(updated);
    return updated;
  }

  function drop() {
    try {
      window.localStorage.removeItem(STORE);
    } catch (err) {
      /* storage disabled: nothing stored */
    }
  }

  K.returnKey = { STORE: STORE, load: load, make: make, repoint: repoint, drop: drop };
})();
