/* Kindred: a chat's transcript and the page's notices, shared by the seeker page and the console.
 *
 * Messages go in the order the sender numbered them (`seq`: frames can overtake each other),
 * what the reader sent is marked if it was not delivered, and a notice line can clear itself.
 * Everything a person wrote is set as text, never as HTML.
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var el = K.el;
  var WRITERS = ["seeker", "volunteer", "supervisor"];

  function messageNode(who, mine, text, time) {
    var node = el("div", { className: "msg " + (mine ? "msg-mine" : "msg-peer") });
    var meta = el("p", { className: "msg-meta" });
    meta.appendChild(el("span", { className: "msg-who", dir: "auto" }, who));
    meta.appendChild(el("span", { className: "msg-time" }, time));
    node.appendChild(meta);
    node.appendChild(el("p", { className: "msg-text", dir: "auto" }, text));
    return node;
  }

  function scrollToEnd(log) {
    log.scrollTop = log.scrollHeight;
  }

  /** The peer's message, before the first message of the same writer in the same chat with a
   * higher seq (in a chat a supervisor joined, each writer numbers their own messages: `from`
   * tells them apart; after a transfer the new volunteer numbers from 0 again in a new chat). */
  function addPeer(log, who, frame) {
    var node = messageNode(who, false, frame.text, K.clockTime(frame.sentAt));
    var writer = WRITERS.indexOf(frame.from) >= 0 ? frame.from : "peer";
    var chat = frame.sessionId || "";
    node.dataset.from = writer;
    node.dataset.session = chat;
    if (writer === "supervisor") node.classList.add("msg-supervisor");
    var before = null;
    if (typeof frame.seq === "number") {
      node.dataset.seq = String(frame.seq);
      var peers = log.querySelectorAll('.msg-peer[data-seq][data-from="' + writer + '"]');
      for (var i = 0; i < peers.length; i += 1) {
        if (peers[i].dataset.session === chat && Number(peers[i].dataset.seq) > frame.seq) {
          before = peers[i];
          break;
        }
      }
    }
    log.insertBefore(node, before);
    if (!before) scrollToEnd(log);
    return node;
  }

  /** What the reader sent, remembered by its clientMsgId in case it is refused. */
  function addMine(log, text, clientMsgId) {
    var node = messageNode(K.t("transcript.you"), true, text, K.clockTime());
    node.dataset.clientMsgId = clientMsgId;
    log.appendChild(node);
    scrollToEnd(log);
    return node;
  }

  /** A whisper (issue 12): between a volunteer and a supervisor only, marked as such. */
  function addWhisper(log, who, text, time, mine) {
    var node = messageNode(who, mine, text, K.clockTime(time));
    node.classList.add("msg-whisper");
    log.appendChild(node);
    scrollToEnd(log);
    return node;
  }

  /** Marks the reader's message with this clientMsgId, anywhere under `root`, as not sent. */
  function markNotSent(root, clientMsgId, words) {
    root.querySelectorAll(".msg-mine").forEach(function (node) {
      if (node.dataset.clientMsgId === clientMsgId) {
        node.classList.add("msg-failed");
        node.appendChild(el("p", { className: "msg-error" }, K.t("transcript.not_sent", { reason: words })));
      }
    });
  }

  var noticeTimers = new WeakMap();

  /** Shows `words` in the notice box (kind: ok, warn), or hides it when `words` is empty. */
  function notice(box, words, options) {
    window.clearTimeout(noticeTimers.get(box));
    if (!words) {
      K.show(box, false);
      box.textContent = "";
      return;
    }
    box.textContent = words;
    box.className = "notice" + (options && options.kind ? " notice-" + options.kind : "");
    K.show(box, true);
    if (options && options.clearAfterMs) {
      noticeTimers.set(
        box,
        window.setTimeout(function () {
          notice(box, null);
        }, options.clearAfterMs)
      );
    }
  }

  K.transcript = {
    addPeer: addPeer,
    addMine: addMine,
    addWhisper: addWhisper,
    markNotSent: markNotSent,
    scrollToEnd: scrollToEnd,
  };
  K.notice = notice;
})();
