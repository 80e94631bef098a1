/* Kindred: the supervisors' board in the console (issue 12).
 *
 * Drawn from `board` frames only (docs/protocol.md, "Supervision"): the queue, the chats now
 * and the volunteers on shift. There is never any message text on it; names and aliases are
 * set as text. A chat row has a "Join" button unless a supervisor is in it already (or it is
 * the supervisor's own chat); what joining does is the console's (options.onJoin).
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var el = K.el;

  var LEVEL_TAGS = {
    concern: "Concern",
    high: "High",
    imminent: "IMMINENT",
  };

  function $(id) {
    return document.getElementById(id);
  }

  /** "45 s", "3 min", "1 h 20 min": how long since `ms` ago. */
  function span(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function queueWords(queue) {
    if (!queue || !queue.waiting) return "Nobody is waiting.";
    var parts = [queue.waiting === 1 ? "1 person waiting" : queue.waiting + " people waiting"];
    parts.push("longest wait " + span(queue.longestWaitSeconds));
    if (queue.atRisk) parts.push(queue.atRisk + " at risk");
    var languages = Object.keys(queue.byLanguage || {}).map(function (code) {
      return K.languageName(code) + " " + queue.byLanguage[code];
    });
    if (languages.length) parts.push(languages.join(", "));
    return parts.join(" · ");
  }

  function emptyRow(columns, words) {
    var row = el("tr", { className: "board-empty" });
    row.appendChild(el("td", { colspan: String(columns) }, words));
    return row;
  }

  function chatRow(chat, atMs, options) {
    var row = el("tr", { className: chat.escalated && !chat.supervisor ? "row-escalated" : "" });
    row.dataset.sessionId = chat.sessionId;
    var seeker = el("th", { scope: "row" }, (chat.seeker || "A seeker") + " ");
    // The same short reference as on the volunteer's panel and in the alerts.
    seeker.appendChild(el("span", { className: "chat-ref" }, "chat " + String(chat.sessionId).slice(0, 8)));
    if (chat.practice) {
      row.classList.add("row-practice");
      seeker.appendChild(document.createTextNode(" "));
      seeker.appendChild(el("span", { className: "badge badge-practice" }, "Practice"));
    }
    row.appendChild(seeker);
    row.appendChild(el("td", {}, chat.volunteer || "A volunteer"));
    var started = new Date(chat.startedAt).getTime();
    row.appendChild(el("td", {}, K.clockTime(chat.startedAt) + " (" + span((atMs - started) / 1000) + ")"));
    var level = el("td", {});
    if (LEVEL_TAGS[chat.level]) {
      level.appendChild(el("span", { className: "level-tag", "data-level": chat.level }, LEVEL_TAGS[chat.level]));
    } else {
      level.textContent = "None noted";
    }
    row.appendChild(level);
    var help = el("td", {});
    if (chat.escalated) help.appendChild(el("span", { className: "badge badge-help" }, "Asked for help"));
    if (chat.supervisor) {
      if (chat.escalated) help.appendChild(document.createTextNode(" "));
      help.appendChild(el("span", { className: "badge" }, chat.supervisor + " joined"));
    }
    if (!chat.escalated && !chat.supervisor) help.textContent = "None";
    row.appendChild(help);
    var act = el("td", {});
    var mine = options.isMine && options.isMine(chat.sessionId);
    var label = "Join the chat of " + (chat.seeker || "a seeker") + " with " + (chat.volunteer || "a volunteer");
    var button = el("button", { type: "button", className: "btn btn-secondary btn-small", "aria-label": label }, "Join");
    if (chat.supervisor || mine) {
      button.disabled = true;
      button.textContent = mine ? "Yours" : "Joined";
      button.setAttribute("aria-label", mine ? "Your own chat" : label + " (a supervisor is in it)");
    } else {
      button.addEventListener("click", function () {
        button.disabled = true;
        options.onJoin(chat.sessionId);
      });
    }
    act.appendChild(button);
    row.appendChild(act);
    return row;
  }

  function volunteerRow(volunteer, atMs) {
    var row = el("tr", {});
    var name = volunteer.name + (volunteer.role === "supervisor" ? " (supervisor)" : "");
    var who = el("th", { scope: "row" }, name);
    if (volunteer.practice) {
      who.appendChild(document.createTextNode(" "));
      who.appendChild(el("span", { className: "badge badge-practice" }, "Trainee"));
    }
    row.appendChild(who);
    row.appendChild(el("td", {}, volunteer.activeChats + " of " + volunteer.capacity));
    var since = volunteer.onShiftSince ? new Date(volunteer.onShiftSince).getTime() : NaN;
    row.appendChild(
      el("td", {}, isNaN(since) ? "-" : K.clockTime(volunteer.onShiftSince) + " (" + span((atMs - since) / 1000) + ")")
    );
    var taking = volunteer.available ? "Yes" : "No (finishing their chats)";
    if (volunteer.paused === "risk" && volunteer.pausedUntil) {
      taking = "Paused until " + K.clockTime(volunteer.pausedUntil) + " (after a risk chat)";
    } else if (volunteer.paused === "shift_cap") {
      taking = "No (shift limit reached)";
    }
    row.appendChild(el("td", {}, taking));
    return row;
  }

  /**
   * Draws a board frame into the console's #board-box.
   * options.onJoin(sessionId)   a supervisor pressed Join
   * options.isMine(sessionId)   the chat is the supervisor's own (no Join)
   */
  function render(frame, options) {
    var atMs = new Date(frame.at).getTime() || Date.now();
    $("board-updated").textContent = "Updated " + new Date(atMs).toLocaleTimeString();
    $("board-queue").textContent = queueWords(frame.queue);
    var chats = $("board-chats").querySelector("tbody");
    var chatRows = (frame.chats || []).map(function (chat) {
      return chatRow(chat, atMs, options);
    });
    chats.replaceChildren.apply(chats, chatRows.length ? chatRows : [emptyRow(6, "No chats right now.")]);
    var volunteers = $("board-volunteers").querySelector("tbody");
    var volunteerRows = (frame.volunteers || []).map(function (v) {
      return volunteerRow(v, atMs);
    });
    volunteers.replaceChildren.apply(
      volunteers,
      volunteerRows.length ? volunteerRows : [emptyRow(3, "Nobody is on shift.")]
    );
    var left = frame.leftOut;
    var leftOut = $("board-left-out");
    leftOut.textContent = left
      ? "Too many to show at once: " + left.chats + " chats and " + left.volunteers + " volunteers are not listed."
      : "";
    K.show(leftOut, !!left);
  }

  K.board = { render: render };
})();
