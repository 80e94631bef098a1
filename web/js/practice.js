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

  var ctx = null; // {config, token()}: from the console
  var client = null; // the practice seeker's socket, while a practice runs
  var session = null; // the chat's id once a trainee took it
  var trainee = "the trainee";
  var typingTimer = null; // a `typing` was sent lately: not again until it runs out
  var shownTyping = null; // the trainee's "is typing" line clears itself

  function $(id) {
    return document.getElementById(id);
  }

  function status(words) {
    $("practice-status").textContent = words || "";
  }

  function systemLine(words) {
    var log = $("practice-log");
    log.appendChild(el("p", { className: "msg-system" }, words));
    K.transcript.scrollToEnd(log);
  }

  function fillChoices(config) {
    var topic = $("practice-topic");
    topic.replaceChildren(el("option", { value: "" }, "Any"));
    (config.topics || []).forEach(function (t) {
      topic.appendChild(el("option", { value: t.id }, t.label || t.id));
    });
    var language = $("practice-language");
    language.replaceChildren();
    var languages = config.languages && config.languages.length ? config.languages : ["en"];
    languages.forEach(function (code) {
      language.appendChild(el("option", { value: code }, K.languageName(code)));
    });
  }

  /** Back to the form: the practice socket closed, the chat (if any) over. */
  function reset(words) {
    if (client) client.close();
    client = null;
    session = null;
    $("practice-start").disabled = false;
    K.show($("practice-form"), true);
    K.show($("practice-end"), false);
    $("practice-message").disabled = true;
    status(words);
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
    status("Connecting…");
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
        reset("The practice connection closed. Start again when you're ready.");
      },
    });
    client.connect().catch(function () {
      reset("The practice chat could not start: only a supervisor can play the seeker.");
    });
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "queued":
        status(
          frame.volunteersOnShift
            ? "Waiting for a trainee to take the chat (" + frame.volunteersOnShift + " on shift)…"
            : "Waiting: no trainee is on shift yet. The chat starts when one is."
        );
        break;
      case "matched":
        session = frame.sessionId;
        trainee = (frame.peer && frame.peer.alias) || "the trainee";
        status("Practice chat with " + trainee + ". You are the person seeking help.");
        systemLine(trainee + " took the chat.");
        $("practice-message").disabled = false;
        $("practice-message").focus();
        break;
      case "message":
        $("practice-typing").textContent = "";
        K.transcript.addPeer($("practice-log"), trainee, frame);
        break;
      case "typing":
        $("practice-typing").textContent = trainee + " is typing…";
        window.clearTimeout(shownTyping);
        shownTyping = window.setTimeout(function () {
          $("practice-typing").textContent = "";
        }, 5000);
        break;
      case "resources":
        if (frame.reason === "crisis" || frame.reason === "ended") {
          systemLine("(A real seeker would now see the crisis lines.)");
        }
        break;
      case "ended":
        systemLine("The practice chat ended.");
        reset("The practice chat ended. Start another when you're ready.");
        break;
      case "error":
        if (frame.code === "not_in_chat" && !session) break;
        status(frame.message || "Something went wrong.");
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
      reset("");
    }
  }

  function enter(context) {
    ctx = context;
    fillChoices(ctx.config);
    reset("");
    K.show($("practice-chat"), false);
    K.show($("practice-box"), true);
  }

  function leave() {
    reset("");
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
