/* Kindred: the supervisor's "Practice chat" panel in the console (issue 13).
 *
 * A supervisor plays the person seeking help for a trainee on shift: the panel opens a second
 * WebSocket with the supervisor's token and `practice=1` (docs/protocol.md, "Practice chats"),
 * which the server treats as a seeker marked practice: its `match` is matched only with a
 * trainee, and nothing of the chat is counted or kept. The frames are a seeker's; everything
 * written is set as text. The console (volunteer.js) calls enter() for a supervisor and
 * leave() on sign-out.
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var el = K.el;
  var t = K.t;

  var ctx = null; // {config, token()}: from the console
  var client = null; // the practice seeker's socket, while a practice runs
  var session = null; // the chat's id once a trainee took it
  var trainee = ""; // the trainee's name, once they took the chat
  var typingTimer = null; // a `typing` was sent lately: not again until it runs out
  var shownTyping = null; // the trainee's "is typing" line clears itself

  function $(id) {
    return document.getElementById(id);
  }

  /** The status line: a catalogue key (and its values), redrawn when the language switches. */
  function status(key, vars) {
    K.i18n.text($("practice-status"), key || null, vars);
  }

  function systemLine(key, vars) {
    var log = $("practice-log");
    log.appendChild(K.i18n.text(el("p", { className: "msg-system" }), key, vars));
    K.transcript.scrollToEnd(log);
  }

  function fillChoices(config) {
    var topic = $("practice-topic");
    topic.replaceChildren(K.i18n.text(el("option", { value: "" }), "console.practice.any_topic"));
    (config.topics || []).forEach(function (item) {
      // The catalogue's name for the topic if it has one (as the console's own), else the site's.
      var key = "topic." + item.id;
      topic.appendChild(el("option", { value: item.id }, t(key) !== key ? t(key) : item.label || item.id));
    });
    var language = $("practice-language");
    language.replaceChildren();
    var languages = config.languages && config.languages.length ? config.languages : ["en"];
    languages.forEach(function (code) {
      language.appendChild(el("option", { value: code }, K.languageName(code)));
    });
  }

  /** Back to the form: the practice socket closed, the chat (if any) over. */
  function reset(key) {
    if (client) client.close();
    client = null;
    session = null;
    $("practice-start").disabled = false;
    K.show($("practice-form"), true);
    K.show($("practice-end"), false);
    $("practice-message").disabled = true;
    status(key);
  }

  function start(event) {
    event.preventDefault();
    if (client) return;
    var topic = $("practice-topic").value;
    var language = $("practice-language").value;
    var intro = $("practice-intro").value.trim();
    var match = { action: "match", language: language, topics: topic ? [topic] : [] };
    if (intro) match.intro = intro;
    $("practice-start").disabled = true;
    $("practice-log").replaceChildren();
    $("practice-typing").textContent = "";
    K.show($("practice-chat"), true);
    K.show($("practice-form"), false);
    K.show($("practice-end"), true);
    $("practice-message").disabled = true;
    status("console.status.connecting");
    client = new K.Client({
      url: function () {
        return K.socketUrl(ctx.config.websocketUrl, { token: ctx.token(), practice: "1", lang: language });
      },
      onFrame: onFrame,
      maxAttempts: 1, // a practice seeker never resumes: a drop ends the practice
      onOpen: function () {
        client.send(match);
      },
      onDown: function () {},
      onGiveUp: function () {
        reset("console.practice.closed");
      },
    });
    client.connect().catch(function () {
      reset("console.practice.refused");
    });
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "queued":
        if (frame.volunteersOnShift) status("console.practice.waiting", { count: frame.volunteersOnShift });
        else status("console.practice.no_trainee");
        break;
      case "matched":
        session = frame.sessionId;
        trainee = (frame.peer && frame.peer.alias) || t("console.practice.the_trainee");
        status("console.practice.talking", { name: trainee });
        systemLine("console.practice.took", { name: trainee });
        $("practice-message").disabled = false;
        $("practice-message").focus();
        break;
      case "message":
        $("practice-typing").textContent = "";
        K.transcript.addPeer($("practice-log"), trainee, frame);
        break;
      case "typing":
        $("practice-typing").textContent = t("common.typing", { alias: trainee });
        window.clearTimeout(shownTyping);
        shownTyping = window.setTimeout(function () {
          $("practice-typing").textContent = "";
        }, 5000);
        break;
      case "resources":
        if (frame.reason === "crisis" || frame.reason === "ended") {
          systemLine("console.practice.crisis_lines");
        }
        break;
      case "ended":
        systemLine("console.practice.ended_line");
        reset("console.practice.ended");
        break;
      case "error":
        if (frame.code === "not_in_chat" && !session) break;
        if (frame.message) $("practice-status").textContent = frame.message; // the server's words
        else status("console.error.generic");
        break;
      default:
        break;
    }
  }

  function send(event) {
    event.preventDefault();
    var box = $("practice-message");
    var text = box.value.trim();
    if (!text || !client || !session) return;
    var id = K.newId("p");
    client.send({ action: "message", sessionId: session, text: text, clientMsgId: id });
    K.transcript.addMine($("practice-log"), text, id);
    box.value = "";
  }

  function typing() {
    if (!client || !session || typingTimer) return;
    client.send({ action: "typing", sessionId: session });
    typingTimer = window.setTimeout(function () {
      typingTimer = null;
    }, 3000);
  }

  function end() {
    if (client && session) {
      client.send({ action: "end", sessionId: session });
    } else {
      reset(null);
    }
  }

  function enter(context) {
    ctx = context;
    fillChoices(ctx.config);
    reset(null);
    K.show($("practice-chat"), false);
    K.show($("practice-box"), true);
  }

  function leave() {
    reset(null);
    ctx = null;
    K.show($("practice-box"), false);
  }

  function init() {
    $("practice-form").addEventListener("submit", start);
    $("practice-composer").addEventListener("submit", send);
    $("practice-message").addEventListener("input", typing);
    $("practice-message").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && K.enterSends()) {
        event.preventDefault();
        $("practice-composer").requestSubmit();
      }
    });
    $("practice-end").addEventListener("click", end);
  }

  K.practice = { enter: enter, leave: leave };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
