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
    concern: "board.level.concern",
    high: "board.level.high",
    imminent: "board.level.imminent",
  };
  var t = K.t;

  function $(id) {
    return document.getElementById(id);
  }

  /** "45 s", "3 min", "1 h 20 min": how long since `ms` ago. */
  function span(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return t("board.span.seconds", { count: seconds });
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return t("board.span.minutes", { count: minutes });
    return t("board.span.hours", { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
  }

  function queueWords(queue) {
    if (!queue || !queue.waiting) return t("board.queue.nobody");
    var parts = [t("board.queue.waiting", { count: queue.waiting })];
    parts.push(t("board.queue.longest", { span: span(queue.longestWaitSeconds) }));
    if (queue.atRisk) parts.push(t("board.queue.at_risk", { count: queue.atRisk }));
    var languages = Object.keys(queue.byLanguage || {}).map(function (code) {
      return K.languageName(code) + " " + queue.byLanguage[code];
    });
    if (languages.length) parts.push(languages.join(", "));
    return parts.join(" · ");
  }

  function emptyRow(columns, key) {
    var row = el("tr", { className: "board-empty" });
    row.appendChild(K.i18n.tel("td", { colspan: String(columns) }, key));
    return row;
  }

  function chatRow(chat, atMs, options) {
    var row = el("tr", { className: chat.escalated && !chat.supervisor ? "row-escalated" : "" });
    row.dataset.sessionId = chat.sessionId;
    var seeker = el("th", { scope: "row" });
    seeker.appendChild(el("span", { dir: "auto" }, chat.seeker || t("board.a_seeker")));
    seeker.appendChild(document.createTextNode(" "));
    // The same short reference as on the volunteer's panel and in the alerts.
    seeker.appendChild(el("span", { className: "chat-ref" }, t("common.chat_ref", { ref: String(chat.sessionId).slice(0, 8) })));
    if (chat.practice) {
      row.classList.add("row-practice");
      seeker.appendChild(document.createTextNode(" "));
      seeker.appendChild(el("span", { className: "badge badge-practice" }, t("board.practice")));
    }
    row.appendChild(seeker);
    row.appendChild(el("td", { dir: "auto" }, chat.volunteer || t("board.a_volunteer")));
    var started = new Date(chat.startedAt).getTime();
    row.appendChild(el("td", {}, K.clockTime(chat.startedAt) + " (" + span((atMs - started) / 1000) + ")"));
    var level = el("td", {});
    if (LEVEL_TAGS[chat.level]) {
      level.appendChild(el("span", { className: "level-tag", "data-level": chat.level }, t(LEVEL_TAGS[chat.level])));
    } else {
      level.textContent = t("console.level.none");
    }
    row.appendChild(level);
    var help = el("td", {});
    if (chat.escalated) help.appendChild(el("span", { className: "badge badge-help" }, t("board.asked_help")));
    if (chat.supervisor) {
      if (chat.escalated) help.appendChild(document.createTextNode(" "));
      help.appendChild(el("span", { className: "badge", dir: "auto" }, t("board.supervisor_joined", { name: chat.supervisor })));
    }
    if (!chat.escalated && !chat.supervisor) help.textContent = t("board.no_supervision");
    row.appendChild(help);
    var act = el("td", {});
    var mine = options.isMine && options.isMine(chat.sessionId);
    var label = t("board.join_label", {
      seeker: chat.seeker || t("board.a_seeker"),
      volunteer: chat.volunteer || t("board.a_volunteer"),
    });
    var button = el("button", { type: "button", className: "btn btn-secondary btn-small", "aria-label": label }, t("board.join"));
    if (chat.supervisor || mine) {
      button.disabled = true;
      button.textContent = mine ? t("board.yours") : t("board.joined");
      button.setAttribute("aria-label", mine ? t("board.yours_label") : t("board.joined_label", { label: label }));
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
    var name = volunteer.role === "supervisor" ? t("common.name_supervisor", { name: volunteer.name }) : volunteer.name;
    var who = el("th", { scope: "row", dir: "auto" }, name);
    if (volunteer.practice) {
      who.appendChild(document.createTextNode(" "));
      who.appendChild(el("span", { className: "badge badge-practice" }, t("board.trainee")));
    }
    row.appendChild(who);
    row.appendChild(el("td", {}, t("board.chats_of", { active: volunteer.activeChats, capacity: volunteer.capacity })));
    var since = volunteer.onShiftSince ? new Date(volunteer.onShiftSince).getTime() : NaN;
    row.appendChild(
      el("td", {}, isNaN(since) ? "-" : K.clockTime(volunteer.onShiftSince) + " (" + span((atMs - since) / 1000) + ")")
    );
    var taking = volunteer.available ? t("common.yes") : t("board.taking.finishing");
    if (volunteer.paused === "risk" && volunteer.pausedUntil) {
      taking = t("board.taking.paused", { time: K.clockTime(volunteer.pausedUntil) });
    } else if (volunteer.paused === "shift_cap") {
      taking = t("board.taking.shift_cap");
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
    K.i18n.text($("board-updated"), "board.updated", { time: new Date(atMs).toLocaleTimeString(K.i18n.language()) });
    $("board-queue").textContent = queueWords(frame.queue);
    var chats = $("board-chats").querySelector("tbody");
    var chatRows = (frame.chats || []).map(function (chat) {
      return chatRow(chat, atMs, options);
    });
    chats.replaceChildren.apply(chats, chatRows.length ? chatRows : [emptyRow(6, "board.no_chats")]);
    var volunteers = $("board-volunteers").querySelector("tbody");
    var volunteerRows = (frame.volunteers || []).map(function (v) {
      return volunteerRow(v, atMs);
    });
    volunteers.replaceChildren.apply(
      volunteers,
      volunteerRows.length ? volunteerRows : [emptyRow(3, "board.nobody_on_shift")]
    );
    var left = frame.leftOut;
    var leftOut = $("board-left-out");
    leftOut.textContent = left ? t("board.left_out", { chats: left.chats, volunteers: left.volunteers }) : "";
    K.show(leftOut, !!left);
  }

  K.board = { render: render };
})();
