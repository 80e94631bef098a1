/* Kindred: the WebSocket client shared by the seeker page and the volunteer console.
 *
 * One socket per tab; every frame is one JSON object (docs/protocol.md). The client
 * reconnects with backoff after a dropped connection, asks the page for the URL each time
 * (so a seeker can add ?resume=<token>), and pings only after 5 minutes without sending a
 * frame, to stay under the gateway's 10-minute idle limit: a chat's own frames keep the
 * socket alive, so an active chat sends no ping. It never touches the DOM and never stores
 * anything.
 */
(function () {
  "use strict";

  var PING_EVERY_MS = 5 * 60 * 1000; // a ping after this long without a frame sent
  var PING_CHECK_MS = 30 * 1000; // how often the client looks whether one is due
  var BACKOFF_FIRST_MS = 1000;
  var BACKOFF_MAX_MS = 30000;

  /** Loads config.json from the same origin as the page (no cache: it names the endpoints). */
  function loadConfig() {
    return fetch("config.json", { cache: "no-store", credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error("config.json: HTTP " + r.status);
      return r.json();
    });
  }

  /** The WebSocket URL with the given query parameters (values that are empty are left out). */
  function socketUrl(base, params) {
    var url = new URL(base, window.location.href);
    Object.keys(params || {}).forEach(function (key) {
      var value = params[key];
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    });
    return url.toString();
  }

  /**
   * options:
   *   url()            returns the URL to connect to (called before every attempt)
   *   onFrame(frame)   a parsed server frame (objects with a string `type` only)
   *   onGatewayError(message)  API Gateway's own answer, a frame with `message` and no `type`:
   *                    the frame ran no handler (throttled: "Too Many Requests") or its handler
   *                    failed ("Internal server error"); what it carried may not have arrived
   *   onOpen(info)     the socket is open; info.reconnected is true after a drop
   *   onDown(info)     the socket closed unexpectedly; info.attempt, info.delayMs until the retry
   *   maxAttempts      stop retrying after this many failed attempts in a row (default: never)
   *   onGiveUp()       called when maxAttempts is reached
   */
  function Client(options) {
    this.options = options;
    this.ws = null;
    this.wanted = false; // the page wants a connection (false after close())
    this.everOpened = false;
    this.failures = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastSentAt = 0; // Date.now() of the latest frame sent on this socket
    this.waiters = [];
  }

  Client.prototype.isOpen = function () {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  };

  /** Opens the socket if it is not open; resolves once it is (or rejects on the first failure). */
  Client.prototype.connect = function () {
    var self = this;
    if (this.isOpen()) return Promise.resolve();
    var promise = new Promise(function (resolve, reject) {
      self.waiters.push({ resolve: resolve, reject: reject });
    });
    this.wanted = true;
    // A socket that is connecting, or a retry that is scheduled, settles the promise later.
    if (!this.ws && !this.retryTimer) this._open();
    return promise;
  };

  Client.prototype._settle = function (ok, err) {
    var waiters = this.waiters;
    this.waiters = [];
    waiters.forEach(function (w) {
      if (ok) w.resolve();
      else w.reject(err);
    });
  };

  Client.prototype._open = function () {
    var self = this;
    var ws;
    this.retryTimer = null;
    try {
      ws = new WebSocket(this.options.url());
    } catch (err) {
      this._settle(false, err);
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      var reconnected = self.everOpened;
      self.everOpened = true;
      self.failures = 0;
      self._startPing();
      if (self.options.onOpen) self.options.onOpen({ reconnected: reconnected });
      self._settle(true);
    };
    ws.onmessage = function (event) {
      var frame;
      if (typeof event.data !== "string") return;
      try {
        frame = JSON.parse(event.data);
      } catch (err) {
        return; // not a frame of the protocol: ignore it
      }
      if (frame && typeof frame === "object" && typeof frame.type === "string") {
        self.options.onFrame(frame);
      } else if (frame && typeof frame.message === "string" && self.options.onGatewayError) {
        self.options.onGatewayError(frame.message);
      }
    };
    ws.onclose = function (event) {
      if (self.ws !== ws) return;
      self.ws = null;
      self._stopPing();
      if (!self.wanted) return;
      self._settle(false, new Error("connection closed (" + event.code + ")"));
      self._scheduleRetry();
    };
    // onerror is always followed by onclose, which does the work.
    ws.onerror = function () {};
  };

  Client.prototype._scheduleRetry = function () {
    var self = this;
    var opts = this.options;
    this.failures += 1;
    if (opts.maxAttempts && this.failures > opts.maxAttempts) {
      this.wanted = false;
      if (opts.onGiveUp) opts.onGiveUp();
      return;
    }
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, this.failures - 1));
    var delay = Math.round(base / 2 + Math.random() * (base / 2)); // jitter: no thundering herd
    if (opts.onDown) opts.onDown({ attempt: this.failures, delayMs: delay });
    this.retryTimer = window.setTimeout(function () {
      if (self.wanted) self._open();
    }, delay);
  };

  Client.prototype._startPing = function () {
    var self = this;
    this._stopPing();
    this.lastSentAt = Date.now(); // the handshake counts as activity
    this.pingTimer = window.setInterval(function () {
      if (Date.now() - self.lastSentAt >= PING_EVERY_MS) self.send({ action: "ping" });
    }, PING_CHECK_MS);
  };

  Client.prototype._stopPing = function () {
    if (this.pingTimer) window.clearInterval(this.pingTimer);
    this.pingTimer = null;
  };

  /** Sends one frame; false when the socket is not open (the caller tells the user). */
  Client.prototype.send = function (frame) {
    if (!this.isOpen()) return false;
    this.ws.send(JSON.stringify(frame));
    this.lastSentAt = Date.now();
    return true;
  };

  /** Closes for good: no retry. */
  Client.prototype.close = function () {
    this.wanted = false;
    if (this.retryTimer) window.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this._stopPing();
    var ws = this.ws;
    this.ws = null;
    this.everOpened = false;
    this.failures = 0;
    this._settle(false, new Error("closed"));
    if (ws) {
      try {
        ws.close(1000);
      } catch (err) {
        /* already closing */
      }
    }
  };

  /** Drops the socket as a network failure would (the client then reconnects). For tests. */
  Client.prototype.dropForTest = function () {
    if (this.ws) this.ws.close(4000);
  };

  // ---- small DOM helpers both pages use (text only: never innerHTML) ----------------------

  /** Creates an element; `text` is always set with textContent. */
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  /** Puts a short status in a live region; repeating the same words still gets announced. */
  function announce(region, words) {
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = words;
    }, 50);
  }

  /** A language's name in the page's language (web/js/i18n.js), else the browser's. */
  function languageName(code) {
    var i18n = window.Kindred && window.Kindred.i18n;
    try {
      var names = new Intl.DisplayNames([(i18n && i18n.language()) || navigator.language || "en"], { type: "language" });
      var name = names.of(code);
      if (name && name !== code) return name.charAt(0).toUpperCase() + name.slice(1);
    } catch (err) {
      /* old browser or odd tag: show the code */
    }
    return code;
  }

  function clockTime(iso) {
    var date = iso ? new Date(iso) : new Date();
    if (isNaN(date.getTime())) date = new Date();
    var i18n = window.Kindred && window.Kindred.i18n;
    return date.toLocaleTimeString(i18n ? [i18n.language()] : [], { hour: "2-digit", minute: "2-digit" });
  }

  /** Enter sends on a keyboard; on a touch screen it makes a new line and Send sends. */
  function enterSends() {
    return !(window.matchMedia && window.matchMedia("(pointer: coarse)").matches);
  }

  var counter = 0;
  function newId(prefix) {
    counter += 1;
    var random = "";
    if (window.crypto && window.crypto.getRandomValues) {
      var bytes = new Uint8Array(6);
      window.crypto.getRandomValues(bytes);
      random = Array.prototype.map
        .call(bytes, function (b) {
          return ("0" + b.toString(16)).slice(-2);
        })
        .join("");
    }
    return prefix + "-" + Date.now().toString(36) + "-" + counter + random;
  }

  window.Kindred = {
    Client: Client,
    loadConfig: loadConfig,
    socketUrl: socketUrl,
    el: el,
    show: show,
    announce: announce,
    languageName: languageName,
    clockTime: clockTime,
    newId: newId,
    enterSends: enterSends,
    PING_EVERY_MS: PING_EVERY_MS,
  };
})();
