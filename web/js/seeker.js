/* Kindred: the help-seeker's page.
 *
 * What the page keeps (sessionStorage only, cleared by Quick exit and when a chat ends):
 * the latest resume token and where the seeker is (waiting or chatting, the session id and
 * the volunteer's alias), so a dropped connection or a reload can come back to the same chat.
 * Message text is never stored. Everything a person writes is shown with textContent.
 * A message refused for contact details (issue 12) goes back into the message box, with a notice
 * of why that is not safe in an anonymous chat and a "Send anyway" button (`share: true`): the
 * page remembers the last few sent texts, in memory only, to put it back.
 * The country whose crisis lines are shown is chosen here (config's defaultCountry, else the
 * browser's language region and time zone, else the seeker's pick) and is never sent or stored.
 * The check-in's distress answer is kept in memory only, to send back with the feedback (the
 * server never holds the two together: docs/impact.md); a reload forgets it.
 * A service the volunteer shares (`referral`, issue 12) shows in the chat as a card whose only
 * links are tel:, sms: and https: (a new tab, rel="noopener noreferrer"), every field as text.
 * A return key (issue 13, js/return-key.js) is kept in localStorage only if the seeker ticks
 * the box after a chat; it is sent in `match` from then on, and removed by Quick exit and
 * "Forget me".
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var el = K.el;

  /** Where Quick exit goes: a neutral, busy site that raises no questions. */
  var EXIT_URL = "https://www.wikipedia.org/";
  var STORE_KEY = "kindred.seeker";
  var TYPING_EVERY_MS = 3000; // send `typing` at most this often
  var TYPING_SHOWN_MS = 6000; // how long the peer's typing indicator stays without news
  var MAX_TOPICS = 5;
  var KEPT_SENT = 20; // the last texts sent, in memory only, to put back one that was refused

  var ERROR_WORDS = {
    rate_limited: "seeker.error.rate_limited",
    too_large: "seeker.error.too_large",
    peer_gone: "seeker.error.peer_gone",
    not_in_chat: "seeker.error.not_in_chat",
    resume_failed: "seeker.error.resume_failed",
    internal: "seeker.error.internal",
    closed: "seeker.error.closed",
    invalid_request: "seeker.error.invalid_request",
  };
  var GENERIC_ERROR = "seeker.error.generic";

  var ENDED_WORDS = {
    ended_by_you: "seeker.ended.by_you",
    ended_by_peer: "seeker.ended.by_peer",
    peer_left: "seeker.ended.peer_left",
    blocked: "seeker.ended.blocked",
    timed_out: "seeker.ended.timed_out",
    transferred: "seeker.ended.transferred",
  };

  var t = K.t;
  var setText = K.i18n.text;

  var $ = function (id) {
    return document.getElementById(id);
  };

  var config = null;
  var client = null;
  var state = {
    view: "loading", // loading | welcome | waiting | chat | ended
    sessionId: null,
    alias: "",
    resumeToken: null,
    sendSeq: 0,
    lastTypingSent: 0,
    resuming: false,
    distressBefore: null, // the check-in's distress answer, for the feedback's change
    position: null, // the last queue position and wait shown, to redraw them in another language
    waitSeconds: null,
    supervised: false, // a supervisor from the team is in this chat (issue 12)
    crisisItems: null, // the crisis lines shown in this chat, to show again if it ends unseen
  };
  var typingTimer = null;
  var returnRecord = null; // the return key kept on this device (js/return-key.js), if any
  var sentTexts = []; // [{id, text}], newest last: never stored
  var country = ""; // whose crisis lines are shown: in memory only, never sent or stored

  /** Time zones whose country is plain (the first guess when the language names no region). */
  var ZONE_COUNTRY = {
    "America/New_York": "US", "America/Chicago": "US", "America/Denver": "US",
    "America/Los_Angeles": "US", "America/Phoenix": "US", "America/Anchorage": "US",
    "Pacific/Honolulu": "US", "America/Toronto": "CA", "America/Vancouver": "CA",
    "America/Edmonton": "CA", "America/Winnipeg": "CA", "America/Halifax": "CA",
    "America/St_Johns": "CA", "Europe/London": "GB", "Europe/Dublin": "IE",
    "Australia/Sydney": "AU", "Australia/Melbourne": "AU", "Australia/Brisbane": "AU",
    "Australia/Perth": "AU", "Australia/Adelaide": "AU", "Australia/Hobart": "AU",
    "Pacific/Auckland": "NZ", "Europe/Madrid": "ES", "Atlantic/Canary": "ES",
    "America/Mexico_City": "MX", "America/Monterrey": "MX", "America/Tijuana": "MX",
    "America/Cancun": "MX", "America/Argentina/Buenos_Aires": "AR", "America/Bogota": "CO",
    "America/Santiago": "CL", "Europe/Berlin": "DE", "Europe/Paris": "FR", "America/Lima": "PE",
    "America/Caracas": "VE", "America/Guayaquil": "EC", "America/La_Paz": "BO",
    "America/Santo_Domingo": "DO", "America/Tegucigalpa": "HN", "America/Asuncion": "PY",
    "America/El_Salvador": "SV", "America/Costa_Rica": "CR", "America/Panama": "PA",
    "America/Montevideo": "UY", "America/Puerto_Rico": "PR", "America/Sao_Paulo": "BR",
    "Europe/Lisbon": "PT", "Europe/Rome": "IT", "Europe/Amsterdam": "NL",
    "Europe/Brussels": "BE", "Europe/Zurich": "CH", "Europe/Vienna": "AT",
    "Europe/Stockholm": "SE", "Europe/Oslo": "NO", "Europe/Copenhagen": "DK",
    "Europe/Helsinki": "FI", "Europe/Warsaw": "PL", "Europe/Prague": "CZ", "Europe/Athens": "GR",
    "Asia/Jerusalem": "IL", "Asia/Kolkata": "IN", "Asia/Calcutta": "IN", "Asia/Tokyo": "JP",
    "Asia/Seoul": "KR", "Asia/Shanghai": "CN", "Asia/Hong_Kong": "HK", "Asia/Taipei": "TW",
    "Asia/Singapore": "SG", "Asia/Kuala_Lumpur": "MY", "Asia/Manila": "PH",
    "Asia/Jakarta": "ID", "Asia/Bangkok": "TH", "Africa/Johannesburg": "ZA",
    "Africa/Lagos": "NG", "Africa/Nairobi": "KE",
  };
  var DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

  // ---- storage --------------------------------------------------------------------------

  function save() {
    try {
      if (state.view === "waiting" || state.view === "chat") {
        window.sessionStorage.setItem(
          STORE_KEY,
          JSON.stringify({
            view: state.view,
            sessionId: state.sessionId,
            alias: state.alias,
            resumeToken: state.resumeToken,
            sendSeq: state.sendSeq,
            language: $("language").value,
          })
        );
      } else {
        window.sessionStorage.removeItem(STORE_KEY);
      }
    } catch (err) {
      /* storage disabled: resume after a reload is not possible, the chat still works */
    }
  }

  function restore() {
    try {
      var raw = window.sessionStorage.getItem(STORE_KEY);
      return raw ? JSON.parse(raw) : null;
    } catch (err) {
      return null;
    }
  }

  // ---- views and notices ----------------------------------------------------------------

  var VIEWS = ["loading", "welcome", "waiting", "chat", "ended"];

  function showView(name, focusId) {
    state.view = name;
    VIEWS.forEach(function (v) {
      K.show($("view-" + v), v === name);
    });
    save();
    if (focusId) {
      var target = $(focusId);
      if (target) target.focus();
    }
  }

  function notice(words, options) {
    K.notice($("notice"), words, options);
  }

  function kindError(frame) {
    return t(ERROR_WORDS[frame.code] || GENERIC_ERROR);
  }

  /** The volunteer's alias, or words for them when there is none yet. */
  function aliasOr(key) {
    return state.alias || t(key);
  }

  // ---- connection -----------------------------------------------------------------------

  function socketUrl() {
    var params = { lang: $("language").value };
    if (state.resumeToken && (state.view === "waiting" || state.view === "chat")) {
      params.resume = state.resumeToken;
    }
    return K.socketUrl(config.websocketUrl, params);
  }

  function makeClient() {
    client = new K.Client({
      url: socketUrl,
      onFrame: onFrame,
      onGatewayError: function () {
        notice(t("seeker.gateway_refused"), { kind: "warn", clearAfterMs: 10000 });
      },
      onOpen: function (info) {
        if (state.resuming || (info.reconnected && (state.view === "waiting" || state.view === "chat"))) {
          state.resuming = false;
          notice(t("seeker.connected_again"), { kind: "ok", clearAfterMs: 4000 });
          // The first frame tells us whether the server took us back: `resumed` with a new
          // token, or `resume_failed`.
          client.send({ action: "ping" });
        }
      },
      onDown: function () {
        if (state.view === "waiting" || state.view === "chat") {
          notice(t("seeker.connection_dropped"), { kind: "warn" });
        }
      },
    });
  }

  function send(frame) {
    return client.send(frame);
  }

  // ---- server frames --------------------------------------------------------------------

  function onFrame(frame) {
    switch (frame.type) {
      case "resumed":
        onResumed(frame);
        break;
      case "queued":
        onQueued(frame);
        break;
      case "position":
        onPosition(frame);
        break;
      case "matched":
        onMatched(frame);
        break;
      case "message":
        if (frame.sessionId === state.sessionId || !state.sessionId) addPeerMessage(frame);
        break;
      case "supervisor_joined":
        onSupervisor(frame, true);
        break;
      case "supervisor_left":
        onSupervisor(frame, false);
        break;
      case "typing":
        showTyping();
        break;
      case "referral":
        if (frame.sessionId === state.sessionId || !state.sessionId) addReferralCard(frame.item);
        break;
      case "ended":
        onEnded(frame);
        break;
      case "resources":
        onResources(frame);
        break;
      case "thanks":
        onThanks();
        break;
      case "forgotten":
        onForgotten();
        break;
      case "remembered":
        onRemembered(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // pong, reported, forgotten, and anything newer: nothing to show
    }
  }

  /** Back after a dropped connection: the old token is spent, keep the new one, and show where
   * the server says we are now (docs/protocol.md, "Resuming"): what happened while away. */
  function onResumed(frame) {
    state.resumeToken = frame.resumeToken || null;
    save();
    if (frame.state === "idle" && state.view === "chat") {
      endedWhileAway();
    } else if (frame.state === "idle" && state.view === "waiting") {
      // Our place in the queue did not outlast the drop: start again from the welcome.
      state.sessionId = null;
      showView("welcome", "welcome-title");
      notice(t("seeker.error.resume_failed"), { kind: "warn" });
    } else if (frame.state === "waiting" && state.view === "chat") {
      // The volunteer passed the chat on while we were away: we wait at the front.
      onQueued({ reason: "transfer", position: frame.position });
    }
  }

  /** The chat ended while the connection was down, so its `ended` never came: say so, and show
   * again the crisis lines this chat showed (its end's lines went to the closed socket). */
  function endedWhileAway() {
    onEnded({ sessionId: state.sessionId, reason: "peer_left" });
    setText($("ended-reason"), "seeker.ended.while_away");
    if (state.crisisItems) {
      showLines("ended-lines", state.crisisItems);
      K.show($("ended-lines-box"), true);
    }
  }

  function onQueued(frame) {
    if (frame.resumeToken) state.resumeToken = frame.resumeToken;
    var wasChatting = state.view === "chat";
    $("match-submit").disabled = false;
    if (frame.reason === "transfer") {
      var who = aliasOr("seeker.your_volunteer");
      setText($("queue-reason"), "seeker.waiting.transferred", { alias: who });
      K.show($("queue-reason"), true);
      if (wasChatting) addSystemLine("seeker.chat.transferred", { alias: who });
    } else {
      K.show($("queue-reason"), false);
    }
    state.sessionId = null;
    clearForm(); // what they wrote is on its way: a shared device does not keep it
    K.show($("long-wait-box"), false);
    showPosition(frame.position, frame.estimatedWaitSeconds);
    showSameVolunteer(frame.sameVolunteer);
    showView("waiting", "waiting-title");
    showNobody(frame.volunteersOnShift === 0);
  }

  function onPosition(frame) {
    if (state.view !== "waiting") return; // news for a queue we have not joined yet
    showPosition(frame.position, frame.estimatedWaitSeconds);
    if (frame.volunteersOnShift === 0) {
      showNobody(true);
    } else if (typeof frame.volunteersOnShift === "number") {
      showNobody(false);
      notice(t("seeker.waiting.volunteer_on_shift"), { kind: "ok" });
    }
    if (frame.longWait) showLongWait();
  }

  function showPosition(position, waitSeconds) {
    state.position = position;
    state.waitSeconds = waitSeconds;
    if (!position || position <= 1) setText($("queue-position"), "seeker.waiting.next");
    else setText($("queue-position"), "seeker.waiting.ahead", { count: position - 1 });
    if (typeof waitSeconds === "number" && waitSeconds > 0) {
      setText($("queue-wait"), "seeker.waiting.minutes", { count: Math.max(1, Math.round(waitSeconds / 60)) });
    } else {
      setText($("queue-wait"), null);
    }
  }

  function onMatched(frame) {
    var firstVolunteer = !state.alias || state.view !== "waiting" || !$("chat-log").children.length;
    state.sessionId = frame.sessionId;
    state.alias = (frame.peer && frame.peer.alias) || t("seeker.a_volunteer");
    state.sendSeq = 0;
    state.supervised = false;
    $("peer-alias").textContent = state.alias;
    // A chat that starts with the return key re-points it to this volunteer (so does the server).
    if (state.sentReturnKey) returnRecord = K.returnKey.repoint(returnRecord, state.alias);
    hideTyping();
    if (!firstVolunteer) addSystemLine("seeker.chat.now_talking", { alias: state.alias });
    else addSystemLine("seeker.chat.joined", { alias: state.alias });
    showView("chat");
    notice(null);
    $("message").focus();
  }

  function onEnded(frame) {
    if (state.sessionId && frame.sessionId && frame.sessionId !== state.sessionId) return;
    var words = ENDED_WORDS[frame.reason] || "seeker.ended.title";
    state.endedSessionId = frame.sessionId || state.sessionId;
    state.resumeToken = null;
    state.supervised = false;
    hideTyping();
    notice(null);
    K.show($("contact-box"), false);
    setText($("ended-reason"), words, { alias: aliasOr("seeker.the_volunteer") });
    resetFeedback();
    showReturnOptIn(frame.reason !== "blocked");
    showCrisisPanel(false);
    showView("ended", "ended-title");
  }

  function onThanks() {
    K.show($("feedback-form"), false);
    K.show($("thanks"), true);
    $("thanks").focus();
  }

  // ---- the return key (issue 13) ---------------------------------------------------------

  function returnDays() {
    return (config && Number(config.returnKeyDays)) || 0;
  }

  /** The volunteer's alias as a catalogue value: their name, else the words `key` for them. */
  function aliasVar(alias, key) {
    return alias || { key: key };
  }

  /** The start page: with a key kept from an earlier chat, the choice of the same volunteer. */
  function showReturnChoice() {
    returnRecord = K.returnKey.load(returnDays());
    K.show($("return-box"), !!returnRecord);
    // Without a key, the words for anyone: no alias of an earlier chat stays in the page.
    var alias = returnRecord ? returnRecord.alias : "";
    setText($("return-legend"), "seeker.return.last_time", {
      alias: aliasVar(alias, "seeker.return.a_volunteer"),
    });
    setText($("return-same-label"), "seeker.return.same", {
      alias: aliasVar(alias, "seeker.return.the_same_volunteer"),
    });
    if (returnRecord) $("return-same").checked = true;
  }

  /** The feedback screen: the opt-in, off unless this chat already went with the key. */
  function showReturnOptIn(allowed) {
    var offered = allowed && returnDays() > 0 && !!state.endedSessionId;
    K.show($("return-optin"), offered);
    if (!offered) return;
    setText($("return-keep-label"), "seeker.return.keep", {
      alias: aliasVar(state.alias, "seeker.return.the_same_volunteer"),
    });
    setText($("return-optin-hint"), "seeker.return.keep_hint", { count: returnDays() });
    setText($("return-optin-status"), null);
    $("return-keep").checked = !!(state.sentReturnKey && returnRecord);
  }

  function onReturnKeepChange() {
    var status = $("return-optin-status");
    if (!$("return-keep").checked) {
      K.returnKey.drop();
      returnRecord = null;
      setText(status, "seeker.return.removed");
      return;
    }
    // One key per device: an earlier one is pointed at this chat's volunteer.
    returnRecord = returnRecord
      ? K.returnKey.repoint(returnRecord, state.alias)
      : K.returnKey.make(state.alias);
    var sent =
      !!returnRecord &&
      !!state.endedSessionId &&
      send({ action: "remember", sessionId: state.endedSessionId, returnKey: returnRecord.key });
    if (!sent) {
      K.returnKey.drop();
      returnRecord = null;
      $("return-keep").checked = false;
      setText(status, "seeker.return.not_kept");
      return;
    }
    setText(status, "seeker.return.keeping");
  }

  function onRemembered(frame) {
    setText($("return-optin-status"), "seeker.return.kept", {
      count: Number(frame.days) || returnDays(),
      alias: aliasVar(state.alias, "seeker.return.the_same_volunteer"),
    });
  }

  function showSameVolunteer(same) {
    var line = $("queue-return");
    if (typeof same !== "boolean") {
      K.show(line, false);
      return;
    }
    var who = aliasVar(returnRecord && returnRecord.alias, "seeker.return.your_volunteer");
    setText(line, same ? "seeker.return.on_shift" : "seeker.return.not_free", { alias: who });
    K.show(line, true);
  }

  function onError(frame) {
    if (frame.code === "resume_failed") {
      state.resumeToken = null;
      state.sessionId = null;
      showView("welcome");
      notice(kindError(frame), { kind: "warn" });
      $("welcome-title").focus();
      return;
    }
    if (frame.code === "already_waiting" || frame.code === "already_in_chat") return;
    if (frame.code === "not_in_chat" && state.view === "chat") {
      // The chat ended while we were away (a drop the server could not bridge).
      if (frame.clientMsgId) markNotSent(frame.clientMsgId, kindError(frame));
      endedWhileAway();
      return;
    }
    if (frame.code === "contact_details") {
      onContactDetails(frame);
      return;
    }
    if (frame.action === "message" && frame.clientMsgId) {
      markNotSent(frame.clientMsgId, kindError(frame));
      return;
    }
    if (frame.action === "remember") {
      K.returnKey.drop();
      returnRecord = null;
      $("return-keep").checked = false;
      setText($("return-optin-status"), "seeker.return.not_kept_chat");
      return;
    }
    if (frame.action === "feedback") {
      $("feedback-error").textContent = t("seeker.feedback.failed");
      return;
    }
    if (frame.code === "closed") {
      $("match-submit").disabled = false;
      $("match-error").textContent = frame.message || kindError(frame);
      if (config.hours) showHours();
      K.show($("hours-box"), true);
      return;
    }
    if (frame.action === "match") {
      $("match-submit").disabled = false;
      $("match-error").textContent = kindError(frame);
      return;
    }
    if (frame.action === "ping" || frame.action === "typing") return;
    notice(kindError(frame), { kind: "warn", clearAfterMs: 8000 });
  }

  // ---- crisis lines ---------------------------------------------------------------------

  function renderLines(list, items) {
    list.replaceChildren();
    (items || []).forEach(function (item) {
      var li = el("li", { className: "line" });
      li.appendChild(el("p", { className: "line-name" }, item.name));
      if (item.description) li.appendChild(el("p", { className: "line-desc" }, item.description));
      var actions = el("p", { className: "line-actions" });
      if (item.phone) {
        actions.appendChild(
          el("a", { className: "btn btn-call", href: "tel:" + item.phone.replace(/[^0-9+]/g, "") }, t("common.call", { number: item.phone }))
        );
      }
      if (item.sms) {
        actions.appendChild(
          el("a", { className: "btn btn-call", href: "sms:" + item.sms.replace(/[^0-9+]/g, "") }, t("common.text", { number: item.sms }))
        );
      }
      if (item.url && /^https?:\/\//i.test(item.url)) {
        actions.appendChild(websiteLink(item.url, item.name));
      }
      if (actions.childNodes.length) li.appendChild(actions);
      if (item.hours) li.appendChild(el("p", { className: "line-hours muted small" }, t("seeker.lines.open", { hours: item.hours })));
      list.appendChild(li);
    });
  }

  /** "Website", and for a screen reader whose it is and that it opens a new tab. */
  function websiteLink(url, name) {
    var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, t("common.website"));
    link.appendChild(el("span", { className: "visually-hidden" }, t("common.website_of", { name: name })));
    return link;
  }

  // The lists of crisis lines on the page, each shown with the chosen country's lines.
  var LINE_LISTS = [
    "urgent-lines", "crisis-lines", "ended-lines", "nobody-lines", "long-wait-lines", "closed-lines", "checkin-lines",
  ];

  function directory() {
    return (config && config.crisisLines) || null;
  }

  function countryName(code) {
    try {
      return new Intl.DisplayNames([K.i18n.language()], { type: "region" }).of(code) || code;
    } catch (err) {
      return code;
    }
  }

  /** The country whose lines to show: the deployment's, else the browser's language region
   * and time zone (the time zone wins when the two disagree: en-US is many browsers' default
   * language wherever they are), else none (the international lines). */
  function guessCountry() {
    var dir = directory() || {};
    if (config.defaultCountry && dir[config.defaultCountry]) return config.defaultCountry;
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (err) {
      zone = "";
    }
    var fromZone = ZONE_COUNTRY[zone] || "";
    var languages = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
    for (var i = 0; i < languages.length; i += 1) {
      var match = /-([A-Za-z]{2})(?:-|$)/.exec(languages[i] || "");
      var fromLanguage = match ? match[1].toUpperCase() : "";
      if (fromLanguage && dir[fromLanguage] && (!fromZone || fromZone === fromLanguage)) return fromLanguage;
    }
    return dir[fromZone] ? fromZone : "";
  }

  /** The lines to show: the chosen country's then the international ones from config, or,
   * without a directory in config, what the server sent. */
  function linesToShow(items) {
    var dir = directory();
    if (!dir) return items || [];
    return (country && dir[country] ? dir[country] : []).concat(dir.INTL || []);
  }

  function showLines(listId, items) {
    var list = $(listId);
    list.dataset.filled = "1";
    list._items = items || [];
    renderLines(list, linesToShow(items));
    if (directory() && listId !== "urgent-lines") labelLines(list);
  }

  /** "Lines for Mexico. Somewhere else?" above a list: the country is a guess, easy to change. */
  function labelLines(list) {
    var label = list.previousElementSibling;
    if (!label || !label.classList.contains("lines-for")) {
      label = el("p", { className: "lines-for small" });
      list.parentNode.insertBefore(label, list);
    }
    label.replaceChildren(
      document.createTextNode(
        (country ? t("seeker.lines.for_country", { country: countryName(country) }) : t("seeker.lines.anywhere")) + " "
      )
    );
    var change = el("button", { type: "button", className: "link-button" }, country ? t("seeker.lines.elsewhere") : t("seeker.lines.choose_country"));
    change.addEventListener("click", function () {
      openUrgent();
      $("country").focus();
    });
    label.appendChild(change);
  }

  function fillCountries() {
    var select = $("country");
    var dir = directory();
    if (!dir) {
      K.show(select.closest(".country-field"), false);
      return;
    }
    var codes = Object.keys(dir).filter(function (code) {
      return code !== "INTL";
    });
    var named = codes.map(function (code) {
      return { code: code, name: countryName(code) };
    });
    named.sort(function (a, b) {
      return a.name.localeCompare(b.name);
    });
    select.replaceChildren(K.i18n.tel("option", { value: "" }, "seeker.lines.another_country"));
    named.forEach(function (entry) {
      select.appendChild(el("option", { value: entry.code }, entry.name));
    });
    select.value = country;
  }

  function redrawLines() {
    LINE_LISTS.forEach(function (id) {
      if ($(id).dataset.filled) showLines(id, $(id)._items);
    });
  }

  function wireCountries() {
    var select = $("country");
    if (!directory()) return;
    country = guessCountry();
    select.value = country;
    select.addEventListener("change", function () {
      country = select.value;
      redrawLines();
    });
  }

  function onResources(frame) {
    if (frame.reason === "crisis") {
      state.crisisItems = frame.items;
      showLines("crisis-lines", frame.items);
      // Without a country's own line there is nobody to call yet: say so, not "straight away".
      setText(
        $("crisis-promise"),
        linesToShow(frame.items).some(function (line) {
          return line.phone || line.sms;
        })
          ? "seeker.crisis.promise_now"
          : "seeker.crisis.promise_directory"
      );
      setText(
        $("crisis-note"),
        state.view === "chat" ? "seeker.crisis.chat_open" : state.view === "waiting" ? "seeker.crisis.keep_place" : null
      );
      setText($("crisis-close"), state.view === "chat" ? "seeker.crisis.back_to_chat" : "seeker.crisis.hide");
      showCrisisPanel(true);
    } else if (frame.reason === "ended") {
      showLines("ended-lines", frame.items);
      K.show($("ended-lines-box"), true);
    } else if (frame.reason === "unavailable") {
      showLines("nobody-lines", frame.items);
      if (state.view === "waiting") showNobody(true);
    } else if (frame.reason === "long_wait") {
      showLines("long-wait-lines", frame.items);
      if (state.view === "waiting") showLongWait();
    } else if (frame.reason === "closed") {
      showLines("closed-lines", frame.items);
      K.show($("closed-lines-box"), true);
      K.show($("hours-box"), true);
    } else {
      showLines("urgent-lines", frame.items);
      setText($("urgent-status"), linesToShow(frame.items).length ? null : "seeker.urgent.none_found");
    }
  }

  /** The crisis panel: on a phone in a chat it stays short (its lines scroll) so that the
   * message box stays in view. */
  function showCrisisPanel(visible) {
    K.show($("crisis-panel"), visible);
    document.body.classList.toggle("crisis-open", visible);
    if (!visible) return;
    $("crisis-panel").focus({ preventScroll: true });
    if (state.view !== "chat") $("crisis-panel").scrollIntoView({ block: "start" });
  }

  function showNobody(visible) {
    var box = $("nobody-box");
    var was = !box.hidden;
    K.show(box, visible);
    if (visible) {
      setText($("queue-wait"), null);
      if (!$("nobody-lines").dataset.filled) showLines("nobody-lines", []);
      if (!was) box.focus();
    }
  }

  function showLongWait() {
    var box = $("long-wait-box");
    if (!$("long-wait-lines").dataset.filled) showLines("long-wait-lines", []);
    if (box.hidden) {
      K.show(box, true);
      box.focus();
    }
  }

  function openUrgent() {
    var panel = $("urgent-panel");
    K.show(panel, true);
    $("urgent-open").setAttribute("aria-expanded", "true");
    panel.focus();
    panel.scrollIntoView({ block: "start" });
    if (directory()) {
      showLines("urgent-lines", []);
      return;
    }
    if ($("urgent-lines").children.length) return;
    if (!client) {
      setText($("urgent-status"), "seeker.urgent.cannot_load");
      return;
    }
    setText($("urgent-status"), "seeker.urgent.looking");
    client
      .connect()
      .then(function () {
        // No country: the deployment's own (DefaultCountry) is the one it vouches for.
        send({ action: "resources" });
      })
      .catch(function () {
        setText($("urgent-status"), "seeker.urgent.load_failed");
      });
  }

  // ---- opening hours ------------------------------------------------------------------------

  /** Now in the schedule's time zone: the day (0 = Monday), the minute of the day, the date. */
  function zoneNow(zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, weekday: "short", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date()).forEach(function (part) {
      parts[part.type] = part.value;
    });
    var day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday);
    return {
      day: day,
      minute: Number(parts.hour) * 60 + Number(parts.minute),
      date: Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)),
    };
  }

  function minutes(clock) {
    var bits = clock.split(":");
    return Number(bits[0]) * 60 + Number(bits[1]);
  }

  function isoDate(utcMs) {
    return new Date(utcMs).toISOString().slice(0, 10);
  }

  /** Windows of a day as [start, end] minutes (end past 1440 runs into the next day). */
  function windowsOn(hours, dateMs, day) {
    if ((hours.closedDates || []).indexOf(isoDate(dateMs)) >= 0) return [];
    return ((hours.weekly || {})[DAYS[day]] || []).map(function (span) {
      var start = minutes(span[0]);
      var end = minutes(span[1]);
      return [start, end > start ? end : end + 1440];
    });
  }

  /** Whether open now and, if not, when it next opens (in the schedule's own time). */
  function schedule(hours) {
    var now = zoneNow(hours.timezone);
    var today = windowsOn(hours, now.date, now.day);
    var yesterday = windowsOn(hours, now.date - 86400000, (now.day + 6) % 7);
    var open =
      today.some(function (w) {
        return w[0] <= now.minute && now.minute < w[1];
      }) ||
      yesterday.some(function (w) {
        return now.minute + 1440 < w[1];
      });
    if (open) return { open: true };
    for (var offset = 0; offset < 400; offset += 1) {
      var date = now.date + offset * 86400000;
      var day = (now.day + offset) % 7;
      var starts = windowsOn(hours, date, day)
        .map(function (w) {
          return w[0];
        })
        .filter(function (start) {
          return offset > 0 || start > now.minute;
        })
        .sort(function (a, b) {
          return a - b;
        });
      if (starts.length) return { open: false, offset: offset, date: date, day: day, minute: starts[0] };
    }
    return { open: false };
  }

  function clockWords(minute) {
    var h = Math.floor(minute / 60) % 24;
    var m = minute % 60;
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }

  /** The name of a day (0 = Monday) in the page's language. */
  function dayName(day) {
    // 2024-01-01 was a Monday.
    return new Date(Date.UTC(2024, 0, 1 + day)).toLocaleDateString(K.i18n.language(), {
      weekday: "long", timeZone: "UTC",
    });
  }

  function nextOpeningWords(next, zone) {
    if (next.minute === undefined) return t("seeker.hours.never");
    var vars = { time: clockWords(next.minute), zone: zone.replace(/_/g, " ") };
    if (next.offset === 0) return t("seeker.hours.opens_today", vars);
    if (next.offset === 1) return t("seeker.hours.opens_tomorrow", vars);
    vars.date = new Date(next.date).toLocaleDateString(K.i18n.language(), {
      weekday: "long", day: "numeric", month: "long", timeZone: "UTC",
    });
    return t("seeker.hours.opens_on", vars);
  }

  function showHours() {
    var hours = config.hours;
    if (!hours || !hours.timezone) return;
    var list = $("hours-list");
    list.replaceChildren();
    DAYS.forEach(function (key, index) {
      var spans = (hours.weekly || {})[key] || [];
      var words = spans.length
        ? spans.map(function (span) {
            return span[0] + "–" + span[1];
          }).join(", ")
        : t("seeker.hours.closed");
      list.appendChild(el("li", {}, t("seeker.hours.day", { day: dayName(index), hours: words })));
    });
    list.appendChild(el("li", { className: "muted" }, t("seeker.hours.zone", { zone: hours.timezone.replace(/_/g, " ") })));
    var now = schedule(hours);
    K.show($("hours-box"), true);
    if (now.open) {
      $("hours-next").textContent = t("seeker.hours.open_now");
      K.show($("closed-lines-box"), false);
    } else {
      $("hours-next").textContent = nextOpeningWords(now, hours.timezone);
      showLines("closed-lines", []);
      K.show($("closed-lines-box"), true);
    }
  }

  function closeUrgent() {
    K.show($("urgent-panel"), false);
    $("urgent-open").setAttribute("aria-expanded", "false");
    $("urgent-open").focus();
  }

  // ---- the chat -------------------------------------------------------------------------

  function addSystemLine(key, vars) {
    var line = K.i18n.tel("p", { className: "msg-system", dir: "auto" }, key, vars);
    $("chat-log").appendChild(line);
    scrollLog();
  }

  function scrollLog() {
    K.transcript.scrollToEnd($("chat-log"));
  }

  function addPeerMessage(frame) {
    hideTyping();
    var who = frame.from === "supervisor" ? t("seeker.chat.supervisor") : aliasOr("seeker.chat.volunteer");
    K.transcript.addPeer($("chat-log"), who, frame);
  }

  /** A supervisor from the team joined or left this chat (issue 12): said once each time. */
  function onSupervisor(frame, joined) {
    if (!state.sessionId || frame.sessionId !== state.sessionId) return;
    if (joined === !!state.supervised) return; // told again after a reconnection: said already
    state.supervised = joined;
    if (joined) addSystemLine("seeker.chat.supervisor_joined", { alias: aliasOr("seeker.your_volunteer_lower") });
    else addSystemLine("seeker.chat.supervisor_left", { alias: aliasOr("seeker.your_volunteer") });
  }

  /** The address if it is an https: link, else null (nothing else becomes a link). */
  function safeWebLink(url) {
    try {
      var parsed = new URL(String(url || ""));
      return parsed.protocol === "https:" && parsed.hostname ? parsed.href : null;
    } catch (err) {
      return null;
    }
  }

  /** A number as a tel: or sms: link dials it: digits and a leading "+" only. */
  function dialable(number) {
    var digits = String(number || "").replace(/[^0-9+]/g, "").replace(/(?!^)\+/g, "");
    return /[0-9]{2,}/.test(digits) ? digits : "";
  }

  /** A service the volunteer shared: a card in the chat with what it is and how to reach it. */
  function addReferralCard(item) {
    if (!item || typeof item.name !== "string" || !item.name) return;
    hideTyping();
    var card = el("div", {
      className: "referral-card", role: "group", "aria-label": t("seeker.referral.label", { name: item.name }),
    });
    card.appendChild(
      el("p", { className: "referral-from", dir: "auto" }, t("seeker.referral.from", { alias: aliasOr("seeker.your_volunteer") }))
    );
    card.appendChild(el("p", { className: "referral-name", dir: "auto" }, item.name));
    if (item.description) card.appendChild(el("p", { className: "referral-desc", dir: "auto" }, item.description));
    if (item.hours) card.appendChild(el("p", { className: "referral-hours", dir: "auto" }, t("common.hours", { hours: item.hours })));
    var actions = el("p", { className: "referral-actions" });
    var phone = dialable(item.phone);
    if (phone) actions.appendChild(el("a", { className: "btn btn-primary btn-small", href: "tel:" + phone }, t("common.call", { number: item.phone })));
    var sms = dialable(item.sms);
    if (sms) actions.appendChild(el("a", { className: "btn btn-secondary btn-small", href: "sms:" + sms }, t("common.text", { number: item.sms })));
    var web = safeWebLink(item.url);
    if (web) actions.appendChild(websiteLink(web, item.name));
    if (actions.childNodes.length) card.appendChild(actions);
    $("chat-log").appendChild(card);
    scrollLog();
  }

  /** Sends `text`; `share` says the seeker chose to send contact details (issue 12). */
  function sendMessage(text, share) {
    var id = K.newId("m");
    var frame = { action: "message", text: text, clientMsgId: id, seq: state.sendSeq };
    if (state.sessionId) frame.sessionId = state.sessionId;
    if (share) frame.share = true;
    if (!send(frame)) return false;
    state.sendSeq += 1;
    save();
    K.transcript.addMine($("chat-log"), text, id);
    sentTexts.push({ id: id, text: text });
    if (sentTexts.length > KEPT_SENT) sentTexts.shift();
    return true;
  }

  // ---- contact details (issue 12) ------------------------------------------------------------

  /** The server refused a message for contact details: it leaves the transcript and goes back
   * into the box (before anything typed since), with the notice and "Send anyway". */
  function onContactDetails(frame) {
    var sent = null;
    sentTexts = sentTexts.filter(function (entry) {
      if (entry.id !== frame.clientMsgId) return true;
      sent = entry;
      return false;
    });
    $("chat-log").querySelectorAll(".msg-mine").forEach(function (node) {
      if (node.dataset.clientMsgId === frame.clientMsgId) node.remove();
    });
    var box = $("message");
    if (sent && box.value.indexOf(sent.text) === -1) {
      box.value = box.value.trim() ? sent.text + "\n" + box.value : sent.text;
    }
    $("contact-found").textContent = frame.message || t("seeker.contact.found");
    notice(null);
    showContactBox(true);
  }

  function showContactBox(visible) {
    K.show($("contact-box"), visible);
    if (visible) $("contact-box").focus();
  }

  function sendAnyway() {
    var box = $("message");
    var text = box.value.trim();
    if (!text) {
      showContactBox(false);
      box.focus();
      return;
    }
    if (sendMessage(text, true)) {
      box.value = "";
      showContactBox(false);
    } else {
      notice(t("seeker.offline"), { kind: "warn" });
    }
    box.focus();
  }

  function markNotSent(clientMsgId, words) {
    K.transcript.markNotSent($("chat-log"), clientMsgId, words);
    notice(t("seeker.not_sent", { reason: words }), { kind: "warn", clearAfterMs: 8000 });
  }

  function showTyping() {
    $("typing").textContent = t("common.typing", { alias: aliasOr("seeker.the_volunteer") });
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    window.clearTimeout(typingTimer);
    $("typing").textContent = "";
  }

  function onComposerInput() {
    var now = Date.now();
    if (state.view === "chat" && $("message").value && now - state.lastTypingSent > TYPING_EVERY_MS) {
      state.lastTypingSent = now;
      var frame = { action: "typing" };
      if (state.sessionId) frame.sessionId = state.sessionId;
      send(frame);
    }
  }

  function onComposerSubmit(event) {
    event.preventDefault();
    var box = $("message");
    var text = box.value.trim();
    if (!text) return;
    if (sendMessage(text)) {
      box.value = "";
      K.show($("contact-box"), false);
    } else {
      notice(t("seeker.offline"), { kind: "warn" });
    }
    box.focus();
  }

  // ---- asking for a volunteer -----------------------------------------------------------

  function selectedTopics() {
    return Array.prototype.map.call(
      document.querySelectorAll("#topics input:checked"),
      function (box) {
        return box.value;
      }
    );
  }

  function onTopicChange() {
    var full = selectedTopics().length >= MAX_TOPICS;
    document.querySelectorAll("#topics input").forEach(function (box) {
      box.disabled = full && !box.checked;
    });
  }

  function onIntroInput() {
    var length = $("intro").value.length;
    setText($("intro-count"), "seeker.form.intro_count", { count: length });
    var left = 500 - length;
    var limit = $("intro-limit");
    if (left === 0) limit.textContent = t("seeker.form.intro_full");
    else if (left <= 50 && limit.dataset.warned !== "1") {
      limit.dataset.warned = "1";
      limit.textContent = t("seeker.form.intro_left", { count: left });
    } else if (left > 50) {
      limit.dataset.warned = "";
    }
  }

  // ---- the check-in, before and after ---------------------------------------------------

  function pickedValue(name) {
    var box = document.querySelector("#checkin input[name=" + name + "]:checked");
    return box ? box.value : null;
  }

  /** The check-in as the `match` frame carries it; null when nothing was answered. */
  function checkinAnswers() {
    var distress = pickedValue("distressBefore");
    var suicidalNow = pickedValue("suicidalNow");
    if (distress === null && suicidalNow === null) return null;
    var checkin = {};
    if (distress !== null) checkin.distress = Number(distress);
    if (suicidalNow !== null) checkin.suicidalNow = suicidalNow;
    return checkin;
  }

  /** A "yes" shows the crisis lines at once; "not sure" a gentle word and the way to them. */
  function onCheckinChange() {
    var answer = pickedValue("suicidalNow");
    var yes = answer === "yes";
    var wasShown = !$("checkin-yes").hidden;
    if (yes) showLines("checkin-lines", []);
    K.show($("checkin-yes"), yes);
    K.show($("checkin-unsure"), answer === "unsure");
    K.show($("checkin-clear"), checkinAnswers() !== null);
    if (yes && !wasShown) {
      $("checkin-live").textContent = t("seeker.checkin.lines_shown");
    } else if (!yes) {
      $("checkin-live").textContent = "";
    }
  }

  /** Fills a 0-10 distress scale (the check-in's and the feedback's are one markup): its
   *  radios are named data-distress, their ids data-id-prefix-0 to -10. */
  function fillDistressScale(scale) {
    var name = scale.getAttribute("data-distress");
    var prefix = scale.getAttribute("data-id-prefix");
    for (var n = 0; n <= 10; n++) {
      var id = prefix + "-" + n;
      var key = n === 0 ? "seeker.scale.least" : n === 10 ? "seeker.scale.most" : "seeker.scale.out_of_10";
      var label = el("label", { for: id }, n);
      label.appendChild(K.i18n.tel("span", { className: "visually-hidden" }, key));
      var item = el("span", { className: "rating-item" });
      item.appendChild(el("input", { type: "radio", id: id, name: name, value: String(n) }));
      item.appendChild(label);
      scale.appendChild(item);
    }
  }

  function clearCheckin() {
    document.querySelectorAll("#checkin input[type=radio]").forEach(function (box) {
      box.checked = false;
    });
    onCheckinChange();
    $("before-0").focus();
  }

  function onMatchSubmit(event) {
    event.preventDefault();
    $("match-error").textContent = "";
    var frame = { action: "match", topics: selectedTopics(), language: $("language").value };
    var intro = $("intro").value.trim();
    if (intro) frame.intro = intro;
    var checkin = checkinAnswers();
    if (checkin) frame.checkin = checkin;
    returnRecord = K.returnKey.load(returnDays());
    state.sentReturnKey = !!returnRecord;
    if (returnRecord) {
      frame.returnKey = returnRecord.key;
      if ($("return-same").checked && !$("return-box").hidden) frame.sameVolunteer = true;
    }
    state.distressBefore = checkin && typeof checkin.distress === "number" ? checkin.distress : null;
    $("match-submit").disabled = true;
    $("chat-log").replaceChildren();
    $("chat-log").lang = frame.language; // screen readers read the chat in its language
    state.alias = "";
    client
      .connect()
      .then(function () {
        if (!send(frame)) throw new Error("not open");
      })
      .catch(function () {
        $("match-submit").disabled = false;
        $("match-error").textContent = t("seeker.form.unreachable");
      });
  }

  // ---- ending, feedback, leaving ----------------------------------------------------------

  function endChat() {
    var frame = { action: "end" };
    if (state.sessionId) frame.sessionId = state.sessionId;
    send(frame);
  }

  function cancelWait() {
    send({ action: "end" });
    cleanSlate();
    showView("welcome", "welcome-title");
    notice(t("seeker.waiting.left"), { clearAfterMs: 6000 });
  }

  function resetFeedback() {
    $("feedback-form").reset();
    $("feedback-error").textContent = "";
    K.show($("feedback-form"), true);
    K.show($("thanks"), false);
  }

  function onFeedbackSubmit(event) {
    event.preventDefault();
    var picked = document.querySelector("#feedback-form input[name=rating]:checked");
    if (!picked) {
      $("feedback-error").textContent = t("seeker.feedback.choose");
      $("rating-1").focus();
      return;
    }
    var frame = { action: "feedback", sessionId: state.endedSessionId, rating: Number(picked.value) };
    var comment = $("feedback-comment").value.trim();
    if (comment) frame.comment = comment;
    var after = document.querySelector("#feedback-form input[name=distressAfter]:checked");
    if (after) {
      frame.distress = Number(after.value);
      if (state.distressBefore !== null) frame.distressBefore = state.distressBefore;
    }
    if (!state.endedSessionId || !send(frame)) {
      onThanks(); // nothing to send it to; thank them anyway rather than show an error
    }
  }

  /** The request form as new: no intro, no topics. */
  function clearForm() {
    $("match-form").reset();
    onTopicChange();
    onCheckinChange();
    setText($("intro-count"), "seeker.form.intro_count", { count: 0 });
    $("intro-limit").textContent = "";
    $("match-error").textContent = "";
  }

  /** Nothing of the previous chat stays on the page: the form, the chat, the lines shown for it. */
  function cleanSlate() {
    state.sessionId = null;
    state.endedSessionId = null;
    state.distressBefore = null;
    state.alias = "";
    state.resumeToken = null;
    state.crisisItems = null;
    $("chat-log").replaceChildren();
    sentTexts = [];
    K.show($("contact-box"), false);
    $("contact-found").textContent = "";
    $("peer-alias").textContent = "";
    setText($("ended-reason"), null);
    ["crisis-lines", "ended-lines", "nobody-lines", "long-wait-lines", "checkin-lines"].forEach(function (id) {
      $(id).replaceChildren();
      delete $(id).dataset.filled;
    });
    ["ended-lines-box", "nobody-box", "long-wait-box", "queue-reason", "queue-return", "return-optin"].forEach(function (id) {
      K.show($(id), false);
    });
    showCrisisPanel(false);
    resetFeedback();
    clearForm();
    showReturnChoice();
    notice(null);
  }

  function newChat() {
    cleanSlate();
    showView("welcome", "welcome-title");
  }

  function forgetMe() {
    var frame = { action: "forget" };
    // The return key's link goes too, and the key leaves this device.
    if (returnRecord) frame.returnKey = returnRecord.key;
    K.returnKey.drop();
    returnRecord = null;
    if (!send(frame)) onForgotten();
  }

  /** The server deleted what it held about this seeker and closes the connection. */
  function onForgotten() {
    cleanSlate();
    if (client) client.close();
    makeClient();
    showView("welcome", "welcome-title");
    notice(t("seeker.forgotten"), {
      kind: "ok",
      clearAfterMs: 8000,
    });
  }

  /** Leaves at once: ends the chat, forgets everything the page knows, replaces history. */
  function quickExit() {
    try {
      if (client && (state.view === "chat" || state.view === "waiting")) endChat();
    } catch (err) {
      /* leave anyway */
    }
    try {
      if (client) client.close();
    } catch (err) {
      /* leave anyway */
    }
    try {
      window.sessionStorage.clear();
      window.localStorage.clear(); // the return key too (js/return-key.js)
    } catch (err) {
      /* storage disabled: nothing stored */
    }
    document.querySelectorAll("textarea, input[type=text]").forEach(function (box) {
      box.value = "";
    });
    $("chat-log").replaceChildren();
    sentTexts = [];
    document.title = "Wikipedia";
    window.location.replace(EXIT_URL);
  }

  // ---- start ------------------------------------------------------------------------------

  function fillForm() {
    var topics = $("topics");
    (config.topics || []).forEach(function (topic, index) {
      var id = "topic-" + index;
      var wrap = el("span", { className: "chip" });
      var box = el("input", { type: "checkbox", id: id, name: "topics", value: topic.id });
      box.addEventListener("change", onTopicChange);
      wrap.appendChild(box);
      wrap.appendChild(topicLabel(el("label", { for: id }), topic));
      topics.appendChild(wrap);
    });
    var select = $("language");
    var languages = config.languages && config.languages.length ? config.languages : ["en"];
    var preferred = K.i18n.language();
    languages.forEach(function (code) {
      var option = el("option", { value: code }, K.i18n.ownName(code));
      option.lang = code;
      select.appendChild(option);
    });
    select.value = languages.indexOf(preferred) >= 0 ? preferred : languages[0];
  }

  /** A topic's label from the catalogue (topic.<id>), else the deployment's own words. */
  function topicLabel(node, topic) {
    var key = "topic." + topic.id;
    if (t(key) !== key) return setText(node, key);
    node.textContent = topic.label || topic.id;
    return node;
  }

  /** The chat's language follows the page's (it is the `lang` the seeker connects with and
   * what `match` asks for); a chat language with a catalogue switches the page too. */
  function followLanguage(language) {
    var select = $("language");
    if (state.view === "welcome" || state.view === "loading" || state.view === "ended") {
      if (Array.prototype.some.call(select.options, function (o) { return o.value === language; })) {
        select.value = language;
      }
    }
    // What the script drew: redrawn in the new language.
    if (config) {
      fillCountries();
      redrawLines();
      showHours();
    }
    if (state.view === "waiting" && state.position !== null) showPosition(state.position, state.waitSeconds);
  }

  function wire() {
    $("quick-exit").addEventListener("click", quickExit);
    $("urgent-open").addEventListener("click", function () {
      if ($("urgent-panel").hidden) openUrgent();
      else closeUrgent();
    });
    document.querySelectorAll("[data-open-urgent]").forEach(function (button) {
      button.addEventListener("click", openUrgent);
    });
    $("urgent-close").addEventListener("click", closeUrgent);
    $("urgent-panel").addEventListener("keydown", function (event) {
      if (event.key === "Escape") closeUrgent();
    });
    $("contact-send").addEventListener("click", sendAnyway);
    $("contact-edit").addEventListener("click", function () {
      showContactBox(false);
      $("message").focus();
    });
    $("crisis-close").addEventListener("click", function () {
      showCrisisPanel(false);
      if (state.view === "chat") $("message").focus();
      else $("main").focus();
    });
    $("match-form").addEventListener("submit", onMatchSubmit);
    document.querySelectorAll("#checkin input[type=radio]").forEach(function (box) {
      box.addEventListener("change", onCheckinChange);
    });
    $("checkin-clear").addEventListener("click", clearCheckin);
    $("intro").addEventListener("input", onIntroInput);
    document.querySelectorAll("[data-cancel-wait]").forEach(function (button) {
      button.addEventListener("click", cancelWait);
    });
    $("keep-waiting").addEventListener("click", function () {
      K.show($("nobody-box"), false);
      notice(t("seeker.waiting.still"), {
        clearAfterMs: 6000,
      });
      $("waiting-title").focus();
    });
    $("forget-me").addEventListener("click", forgetMe);
    $("end-chat").addEventListener("click", endChat);
    $("composer").addEventListener("submit", onComposerSubmit);
    $("message").addEventListener("input", onComposerInput);
    K.show($("composer-hint"), K.enterSends());
    $("message").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && K.enterSends()) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    $("feedback-form").addEventListener("submit", onFeedbackSubmit);
    $("skip-feedback").addEventListener("click", function () {
      K.show($("feedback-form"), false);
      $("new-chat").focus();
    });
    $("new-chat").addEventListener("click", newChat);
    $("language").addEventListener("change", function () {
      var chosen = $("language").value;
      if (K.i18n.has(chosen) && chosen !== K.i18n.language()) K.i18n.use(chosen, true);
    });
    K.i18n.onChange(followLanguage);
    $("return-keep").addEventListener("change", onReturnKeepChange);
    $("return-remove").addEventListener("click", function () {
      K.returnKey.drop();
      returnRecord = null;
      K.show($("return-box"), false);
      notice(t("seeker.return.removed"), { kind: "ok", clearAfterMs: 6000 });
    });
  }

  function start() {
    document.querySelectorAll("[data-distress]").forEach(fillDistressScale);
    wire();
    Promise.all([K.loadConfig(), K.i18n.ready])
      .then(function (loaded) {
        config = loaded[0];
        fillForm();
        fillCountries();
        wireCountries();
        showHours();
        makeClient();
        var saved = restore();
        if (saved && saved.resumeToken && (saved.view === "waiting" || saved.view === "chat")) {
          // Back after a reload: rejoin the queue or the chat with the resume token.
          state.resumeToken = saved.resumeToken;
          state.sessionId = saved.sessionId;
          state.alias = saved.alias || "";
          state.sendSeq = saved.sendSeq || 0;
          if (saved.language) $("language").value = saved.language;
          $("peer-alias").textContent = state.alias;
          state.resuming = true;
          if (saved.view === "chat") {
            addSystemLine("seeker.chat.welcome_back");
            showView("chat");
          } else {
            setText($("queue-position"), "seeker.waiting.getting_back");
            showView("waiting");
          }
          client.connect().catch(function () {
            notice(t("seeker.reconnecting"), { kind: "warn" });
          });
        } else {
          showReturnChoice();
          showView("welcome");
        }
      })
      .catch(function () {
        showView("loading");
        setText($("loading-title"), "seeker.cannot_start");
        setText($("view-loading").querySelector("p"), "seeker.cannot_start_text");
      });
  }

  K.seekerPage = { EXIT_URL: EXIT_URL, state: state, client: function () { return client; } };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
