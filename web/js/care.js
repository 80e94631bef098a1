/* Kindred: care for volunteers in the console (issue 12).
 *
 * The server's `status` says when the volunteer's shift began (`onShiftSince`), when new chats
 * stop (`shiftCapAt`), why no new chat comes now (`paused`: `risk` after a chat at high or
 * imminent risk, until `pausedUntil`; `shift_cap`), and when to ask how they are (`checkin`:
 * `after_risk`, `end_of_shift`); `reminder` comes once before the cap. This module shows that
 * under the availability line and asks the check-in: "I'm OK" or "I'd like to talk to a
 * supervisor" (`checkin` `ok` / `debrief`; a debrief alerts the supervisors on shift). Signing
 * out after a shift asks it too, before the socket closes. Nothing here takes the focus: a
 * screen reader hears it through the live region. Supervisors see a debrief as an alert.
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var $ = function (id) {
    return document.getElementById(id);
  };

  var ASK_WORDS = {
    after_risk: "care.ask.after_risk",
    end_of_shift: "care.ask.end_of_shift",
    sign_out: "care.ask.sign_out",
  };
  var ANSWER_WORDS = {
    ok: "care.answer.ok",
    debrief: "care.answer.debrief",
    nobody: "care.answer.nobody",
  };

  var console_ = null; // {send(frame) -> bool, announce(words)} from the volunteer console
  var pausedUntil = null; // a Date while a risk pause runs
  var pauseTimer = null;
  var last = null; // the last status
  var reminded = false; // this shift was reminded of its end
  var onShiftSeen = false; // on shift at some point since signing in
  var endAnswered = false; // the end-of-shift check-in was answered
  var asking = null; // the check-in asked now: after_risk, end_of_shift, sign_out
  var afterAnswer = null; // sign-out: what to do once answered

  function clock(iso) {
    return K.clockTime(iso);
  }

  /** The line under the availability status: the pause, the cap, the shift. */
  function render() {
    var line = $("care-line");
    var status = last || {};
    var words = null; // [key, vars]
    var kind = "";
    var pauseOver = pausedUntil && pausedUntil.getTime() <= Date.now();
    if (pauseOver) pausedUntil = null;
    if (status.available && status.paused === "shift_cap") {
      words = ["care.line.shift_cap", { count: capHours(status) }];
      kind = "warn";
    } else if (pausedUntil) {
      words = ["care.line.paused", { time: clock(pausedUntil.toISOString()) }];
      kind = "warn";
    } else if (status.available && reminded && status.shiftCapAt) {
      words = ["care.line.ends_at", { time: clock(status.shiftCapAt) }];
      kind = "warn";
    } else if (status.available && pauseOver) {
      words = ["care.line.pause_over"];
      kind = "ok";
    } else if (status.available && status.onShiftSince) {
      words = status.shiftCapAt
        ? ["care.line.since_until", { since: clock(status.onShiftSince), time: clock(status.shiftCapAt) }]
        : ["care.line.since", { since: clock(status.onShiftSince) }];
    }
    if (words) K.i18n.text(line, words[0], words[1]);
    else K.i18n.text(line, null);
    line.className = "care-line" + (kind ? " care-" + kind : "");
    K.show(line, !!words);
  }

  function capHours(status) {
    var ms = new Date(status.shiftCapAt).getTime() - new Date(status.onShiftSince).getTime();
    return Math.round((ms / 3600000) * 10) / 10;
  }

  function onStatus(status) {
    if (!last || last.onShiftSince !== status.onShiftSince) reminded = false;
    if (status.reminder === "shift_cap") reminded = true;
    last = status;
    if (status.available) {
      onShiftSeen = true;
      endAnswered = false;
    }
    if (pauseTimer) window.clearTimeout(pauseTimer);
    pauseTimer = null;
    pausedUntil = status.pausedUntil ? new Date(status.pausedUntil) : null;
    if (pausedUntil) {
      // The pause ends by itself; the server sends nothing then, so the line changes here.
      pauseTimer = window.setTimeout(render, Math.max(0, pausedUntil.getTime() - Date.now()) + 500);
    }
    render();
    if (status.reminder === "shift_cap" && status.shiftCapAt) {
      console_.announce(K.t("care.announce.ends_at", { time: clock(status.shiftCapAt) }));
    } else if (status.paused === "shift_cap") {
      console_.announce(K.t("care.announce.shift_cap"));
    }
    if (status.checkin) ask(status.checkin);
  }

  /** Show the check-in: the question and the two answers (three when signing out). */
  function ask(mode, then) {
    asking = mode;
    afterAnswer = then || null;
    K.i18n.text($("checkin-text"), ASK_WORDS[mode] || ASK_WORDS.end_of_shift);
    K.i18n.text($("checkin-answer"), null);
    K.show($("checkin-answer"), false);
    K.show($("checkin-choices"), true);
    K.show($("checkin-skip"), mode === "sign_out");
    K.show($("checkin-close"), false);
    $("checkin-box").dataset.mode = mode;
    K.show($("checkin-box"), true);
    console_.announce(K.t(ASK_WORDS[mode] || ASK_WORDS.end_of_shift));
  }

  function answer(state) {
    if (!console_.send({ action: "checkin", state: state })) return;
    if (asking === "end_of_shift" || asking === "sign_out") endAnswered = true;
    K.show($("checkin-choices"), false);
    K.show($("checkin-skip"), false);
    if (afterAnswer) {
      // Signing out: leave once the server has the answer (or after two seconds at most).
      var proceed = afterAnswer;
      afterAnswer = null;
      var timer = window.setTimeout(proceed, 2000);
      afterAnswer = function (words) {
        window.clearTimeout(timer);
        proceed(words);
      };
    }
  }

  function onCheckedIn(frame) {
    var key =
      frame.state === "debrief"
        ? frame.supervisorsTold
          ? ANSWER_WORDS.debrief
          : ANSWER_WORDS.nobody
        : ANSWER_WORDS.ok;
    var words = K.t(key);
    if (afterAnswer) {
      var proceed = afterAnswer;
      afterAnswer = null;
      proceed(words);
      return;
    }
    K.i18n.text($("checkin-answer"), key);
    $("checkin-answer").className = "notice " + (frame.state === "debrief" && !frame.supervisorsTold ? "notice-warn" : "notice-ok");
    K.show($("checkin-answer"), true);
    K.show($("checkin-choices"), false);
    K.show($("checkin-close"), true);
    asking = null;
    console_.announce(words);
  }

  /**
   * Signing out after a shift: ask the check-in first and call `proceed(words?)` once it is
   * answered or skipped. False (nothing asked) when there was no shift or it was answered.
   */
  function beforeSignOut(proceed) {
    if (!onShiftSeen || endAnswered || !console_) return false;
    ask("sign_out", proceed);
    $("checkin-box").scrollIntoView({ block: "nearest" });
    return true;
  }

  function close() {
    K.show($("checkin-box"), false);
    asking = null;
  }

  /** Signed out: forget the shift as this page knew it. */
  function reset() {
    if (pauseTimer) window.clearTimeout(pauseTimer);
    pauseTimer = null;
    pausedUntil = null;
    last = null;
    reminded = false;
    onShiftSeen = false;
    endAnswered = false;
    asking = null;
    afterAnswer = null;
    K.show($("checkin-box"), false);
    render();
  }

  function init(options) {
    console_ = options;
    $("checkin-ok").addEventListener("click", function () {
      answer("ok");
    });
    $("checkin-debrief").addEventListener("click", function () {
      answer("debrief");
    });
    $("checkin-skip").addEventListener("click", function () {
      var proceed = afterAnswer;
      afterAnswer = null;
      close();
      if (proceed) proceed();
    });
    $("checkin-close").addEventListener("click", close);
  }

  K.care = {
    init: init,
    onStatus: onStatus,
    onCheckedIn: onCheckedIn,
    beforeSignOut: beforeSignOut,
    reset: reset,
  };
})();
