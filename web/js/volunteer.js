/* Kindred: the volunteer console.
 *
 * Sign-in is Cognito InitiateAuth (USER_PASSWORD_AUTH) straight from the browser, with its
 * challenges (a first password, TOTP set-up and codes: issue 11); the tokens are kept in memory
 * only (a reload asks to sign in again) and the ID token goes on the WebSocket URL as ?token=.
 * Five minutes before it expires it is renewed (REFRESH_TOKEN_AUTH) and sent as `reauth`;
 * `session_expired` shows the sign-in again. One panel per chat (sessionId); every action names its sessionId.
 * Everything a seeker or volunteer writes is shown with textContent.
 * A message the server refused for contact details (issue 12) is marked "Not sent" in its chat,
 * with what the server found.
 *
 * Risk levels (issue 8): each panel shows its chat's level (from `matched.risk`, a risk
 * `alert` and `assessed`) and has a "Risk level" control that sends `assess`. Supervisors see
 * every risk alert with its level, the volunteer, the seeker's alias and the chat.
 *
 * Attention (issue 9): the document title counts what the volunteer has not seen yet (new chats,
 * seeker messages and alerts that arrived while the page was hidden, unfocused or scrolled
 * away from them); a tone (opt-in, "Sound") and a browser notification (asked for when the
 * volunteer starts taking chats) fire only while the page is in the background, and say only
 * what happened and the seeker's alias. Nothing that arrives moves the focus or the page.
 *
 * Each panel shows the short chat reference ("chat 1a2b3c4d") that supervisors' alerts use.
 *
 * Referrals and replies (issue 12): "Share a service" sends a service of the organisation's
 * referral directory (config.json's `referrals`) as a `referral` card; "Quick reply" puts one of
 * config.json's `cannedReplies` (those of the languages ticked) into the message box at the
 * cursor, to be edited: only Send sends it, as an ordinary message.
 * Supervision (issue 12): a volunteer's panel has "Ask a supervisor" (`escalate`, with an
 * optional note) and, while a supervisor is in the chat, shows who and a whisper box. A
 * supervisor sees the board (web/js/board.js), joins a chat from it or from an escalation
 * alert, and gets a panel of that chat from the join on: every message labelled seeker,
 * volunteer or theirs, a box that writes to both, a whisper box (the volunteer only), "Leave".
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var el = K.el;
  var $ = function (id) {
    return document.getElementById(id);
  };

  var TYPING_EVERY_MS = 3000;
  var TYPING_SHOWN_MS = 6000;
  var MAX_RECONNECTS = 8;
  var SOUND_KEY = "kindred.console.sound"; // localStorage: "on" when the volunteer wants the tone

  var ENDED_WORDS = {
    ended_by_you: "console.ended.by_you",
    ended_by_peer: "console.ended.by_peer",
    peer_left: "console.ended.peer_left",
    blocked: "console.ended.blocked",
    transferred: "console.ended.transferred",
    timed_out: "console.ended.timed_out",
  };

  var ERROR_WORDS = {
    not_in_chat: "console.error.not_in_chat",
    peer_gone: "console.error.peer_gone",
    session_required: "console.error.session_required",
    rate_limited: "console.error.rate_limited",
    too_large: "console.error.too_large",
    not_allowed: "console.error.not_allowed",
    peer_away: "console.error.peer_away",
    invalid_request: "console.error.invalid_request",
    internal: "console.error.internal",
    contact_details: "console.error.contact_details",
  };

  var ALERT_WORDS = {
    risk: "console.alert.risk",
    report: "console.alert.report",
    escalation: "console.alert.escalation",
    debrief: "console.alert.debrief", // issue 12: a volunteer asks to talk after a hard chat or shift
  };

  // What each risk level says: its words on a panel (a level is always said in words, never by
  // colour alone; imminent says what to do), and for a level above none an alert's tag and the
  // panel's banner.
  var LEVELS = {
    none: { words: "console.level.none" },
    concern: { words: "console.level.concern", tag: "console.level.tag.concern", banner: "console.risk.concern" },
    high: { words: "console.level.high", tag: "console.level.tag.high", banner: "console.risk.high" },
    imminent: { words: "console.level.imminent", tag: "console.level.tag.imminent", banner: "console.risk.imminent" },
  };

  /** What `level` says (LEVELS), or null for a level this page does not know. */
  function levelOf(level) {
    return Object.prototype.hasOwnProperty.call(LEVELS, level) ? LEVELS[level] : null;
  }

  var t = K.t;
  var setText = K.i18n.text;

  var config = null;
  var client = null;
  var auth = null; // {idToken, claims}
  var available = false;
  var wantAvailable = false;
  var chats = {}; // sessionId -> panel state
  var watching = {}; // supervisor: sessionId -> the panel of a chat they joined
  var panelCount = 0;
  var pendingReport = null;
  var pendingAssess = null;
  var pendingReferral = null;
  var signOutArmed = false;

  // ---- small helpers ------------------------------------------------------------------------

  function notice(words, options) {
    K.notice($("notice"), words, options);
  }

  function announce(words) {
    K.announce($("announcer"), words);
  }

  /** A topic's label from the catalogue (topic.<id>), else the deployment's own words. */
  function topicLabel(id) {
    var key = "topic." + id;
    if (t(key) !== key) return t(key);
    var topics = (config && config.topics) || [];
    for (var i = 0; i < topics.length; i += 1) if (topics[i].id === id) return topics[i].label;
    return id;
  }

  /** The claims of a JWT, for display only (the server verifies the token). */
  function claimsOf(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      while (part.length % 4) part += "=";
      var bytes = Uint8Array.from(window.atob(part), function (c) {
        return c.charCodeAt(0);
      });
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (err) {
      return {};
    }
  }

  function showAlertsBox(visible) {
    K.show($("alerts-box"), visible);
    $("console-bar").classList.toggle("with-alerts", visible);
  }

  function isSupervisor() {
    var groups = (auth && auth.claims["cognito:groups"]) || [];
    return groups.indexOf("supervisors") >= 0;
  }

  /** In training (issue 13): the console is the same, the chats are practice ones. */
  function isTrainee() {
    var groups = (auth && auth.claims["cognito:groups"]) || [];
    return !isSupervisor() && groups.indexOf("volunteers") < 0 && groups.indexOf("trainees") >= 0;
  }

  /** The short reference a volunteer and a supervisor both see: "chat " and 8 characters. */
  function chatRef(sessionId) {
    return t("common.chat_ref", { ref: String(sessionId || "").slice(0, 8) });
  }

  // ---- attention: the title count, the tone, browser notifications --------------------------

  var unreadAlerts = 0; // alerts in the list the volunteer has not looked at yet
  var audio = null; // an AudioContext, made on the volunteer's first gesture that needs it
  var lookPending = false;

  /** The volunteer can be looking: the page is shown and has the focus. */
  function pageLooked() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  /** At least a strip of the node (48 px, or all of it if smaller) is on screen, below the top bar. */
  function inView(node) {
    if (!node || !node.isConnected || node.closest("[hidden]")) return false;
    var rect = node.getBoundingClientRect();
    if (!rect.height) return false;
    var top = document.querySelector(".topbar").getBoundingClientRect().bottom;
    var shown = Math.min(rect.bottom, window.innerHeight) - Math.max(rect.top, top);
    return shown >= Math.min(48, rect.height);
  }

  function unreadCount() {
    var count = unreadAlerts;
    Object.keys(chats).forEach(function (id) {
      if (chats[id].unread) count += 1;
    });
    return count;
  }

  function renderTitle() {
    var count = unreadCount();
    var base = t("console.page_title");
    var title = count ? t("console.title_count", { count: count, title: base }) : base;
    if (document.title !== title) document.title = title;
  }

  function markChatRead(chat) {
    if (!chat || !chat.unread) return;
    chat.unread = false;
    renderTitle();
  }

  function markAlertsRead() {
    if (!unreadAlerts) return;
    unreadAlerts = 0;
    renderTitle();
  }

  /** Whatever the volunteer can see right now is read. */
  function lookNow() {
    if (!pageLooked()) return;
    Object.keys(chats).forEach(function (id) {
      if (chats[id].unread && inView(chats[id].node)) markChatRead(chats[id]);
    });
    if (unreadAlerts && inView($("alerts-box"))) markAlertsRead();
  }

  /** lookNow at most once a frame (scrolling fires often). */
  function lookSoon() {
    if (lookPending) return;
    lookPending = true;
    window.requestAnimationFrame(function () {
      lookPending = false;
      lookNow();
    });
  }

  function noteUnreadChat(chat) {
    chat.unread = true;
    renderTitle();
    lookNow();
  }

  function noteUnreadAlert() {
    unreadAlerts += 1;
    renderTitle();
    lookNow();
  }

  /** Touching a panel or the alerts (a click, a tap, the keyboard's focus) reads them. */
  function onInteract(event) {
    var target = event.target;
    if (!target || !target.closest) return;
    var panel = target.closest(".chat-panel");
    if (panel) markChatRead(chats[panel.dataset.sessionId]);
    if (target.closest("#alerts-box")) markAlertsRead();
  }

  function soundOn() {
    return $("sound").checked;
  }

  function loadSoundChoice() {
    try {
      $("sound").checked = window.localStorage.getItem(SOUND_KEY) === "on";
    } catch (err) {
      /* storage blocked: the tone stays off */
    }
  }

  function onSoundChange() {
    try {
      if (soundOn()) window.localStorage.setItem(SOUND_KEY, "on");
      else window.localStorage.removeItem(SOUND_KEY);
    } catch (err) {
      /* storage blocked: the choice lasts until the page is closed */
    }
    if (soundOn()) playTone("chat"); // the volunteer hears what it will sound like
  }

  /** The AudioContext, made or resumed; browsers allow that during a gesture, hence here. */
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    try {
      if (!audio) audio = new Context();
      if (audio.state === "suspended") audio.resume().catch(function () {});
    } catch (err) {
      return null;
    }
    return audio;
  }

  /** Browsers let a page make sound only after a gesture: the first one readies the tone. */
  function onGesture() {
    if (soundOn() && !audio) audioContext();
  }

  /** A short soft tone: one for a new chat, two higher ones for an alert. */
  function playTone(kind) {
    if (!soundOn()) return;
    var ctx = audioContext();
    if (!ctx) return;
    try {
      var beeps = kind === "alert" ? [0, 0.25] : [0];
      var pitch = kind === "alert" ? 880 : 660;
      beeps.forEach(function (offset) {
        var at = ctx.currentTime + 0.02 + offset;
        var tone = ctx.createOscillator();
        var volume = ctx.createGain();
        tone.type = "sine";
        tone.frequency.value = pitch;
        volume.gain.setValueAtTime(0.0001, at);
        volume.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
        volume.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
        tone.connect(volume);
        volume.connect(ctx.destination);
        tone.start(at);
        tone.stop(at + 0.2);
      });
    } catch (err) {
      /* no audio output: the title and any notification still tell */
    }
  }

  function notificationsSupported() {
    return typeof window.Notification === "function";
  }

  /** Asked only when the volunteer starts taking chats (a click), never on page load. */
  function askToNotify() {
    if (!notificationsSupported() || window.Notification.permission !== "default") return;
    try {
      var asked = window.Notification.requestPermission();
      if (asked && typeof asked.then === "function") asked.then(renderNotifyState, renderNotifyState);
    } catch (err) {
      /* an old browser or a blocked prompt: the title and the tone still work */
    }
  }

  function renderNotifyState() {
    var line = $("notify-state");
    if (!notificationsSupported()) {
      K.show(line, false);
      return;
    }
    var key = {
      granted: "console.notify.granted",
      denied: "console.notify.denied",
      default: "console.notify.default",
    }[window.Notification.permission];
    setText(line, key || null);
    K.show(line, !!key);
  }

  /** A notification says what happened and the seeker's alias, never what anyone wrote. */
  function notify(title, alias, onClick) {
    if (!notificationsSupported() || window.Notification.permission !== "granted") return;
    try {
      var shown = new window.Notification(title, { body: alias || "", lang: K.i18n.language() });
      shown.onclick = function () {
        window.focus();
        shown.close();
        if (onClick) onClick();
      };
    } catch (err) {
      /* notifications failed: the title still counts */
    }
  }

  /** The tone and a notification, only while the volunteer is not looking at the page. */
  function callAttention(kind, title, alias, onClick) {
    if (pageLooked()) return;
    playTone(kind);
    notify(title, alias, onClick);
  }

  function alertTitle(frame) {
    if (frame.kind === "risk") {
      return frame.level ? t("console.alert.risk_level", { level: levelName(frame.level) }) : t("console.alert.risk_alert");
    }
    return t(ALERT_WORDS[frame.kind] || "console.alert.other");
  }

  function startAttention() {
    loadSoundChoice();
    $("sound").addEventListener("change", onSoundChange);
    document.addEventListener("visibilitychange", lookNow);
    window.addEventListener("focus", lookNow);
    window.addEventListener("scroll", lookSoon, { passive: true });
    window.addEventListener("resize", lookSoon);
    document.addEventListener("focusin", onInteract);
    document.addEventListener("pointerdown", onInteract);
    document.addEventListener("pointerdown", onGesture);
    document.addEventListener("keydown", onGesture);
  }

  // ---- sign in ------------------------------------------------------------------------------
  // Cognito's JSON API straight from the browser: InitiateAuth (USER_PASSWORD_AUTH), then the
  // challenges it may answer with: NEW_PASSWORD_REQUIRED (first sign-in), MFA_SETUP
  // (AssociateSoftwareToken, VerifySoftwareToken) and SOFTWARE_TOKEN_MFA. Tokens stay in memory.

  var REFRESH_BEFORE_MS = 5 * 60 * 1000; // renew the ID token this long before it expires
  var pending = null; // a sign-in in progress: {email, session}
  var refreshTimer = null;

  function cognitoEndpoint() {
    var cognito = config.cognito || {};
    if (cognito.endpoint) return cognito.endpoint;
    return "https://cognito-idp." + cognito.region + ".amazonaws.com/";
  }

  /** One call of Cognito's JSON API; resolves to its answer, rejects with err.kind. */
  function cognitoCall(target, request) {
    return fetch(cognitoEndpoint(), {
      method: "POST",
      credentials: "omit",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService." + target,
      },
      body: JSON.stringify(request),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          if (response.ok) return body;
          var kind = String(body.__type || body.code || "").split("#").pop();
          var error = new Error(kind || "HTTP " + response.status);
          error.kind = kind;
          throw error;
        });
    });
  }

  function initiateAuth(email, password) {
    return cognitoCall("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.cognito.clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
  }

  function respond(challenge, responses, session) {
    responses.USERNAME = pending.email;
    return cognitoCall("RespondToAuthChallenge", {
      ClientId: config.cognito.clientId,
      ChallengeName: challenge,
      ChallengeResponses: responses,
      Session: session || pending.session,
    });
  }

  var LOGIN_ERRORS = {
    NotAuthorizedException: "console.login_error.no_match",
    UserNotFoundException: "console.login_error.no_match",
    PasswordResetRequiredException: "console.login_error.reset",
    UserNotConfirmedException: "console.login_error.unconfirmed",
    TooManyRequestsException: "console.login_error.too_many",
    InvalidPasswordException: "console.login_error.weak_password",
    CodeMismatchException: "console.login_error.wrong_code",
    EnableSoftwareTokenMFAException: "console.login_error.wrong_code",
    ExpiredCodeException: "console.login_error.expired_code",
    Challenge: "console.login_error.challenge",
  };

  function loginErrorWords(err) {
    var key = err && err.kind && LOGIN_ERRORS[err.kind];
    if (key) return t(key);
    if (err && /Session|session/.test(err.message || "")) return t("console.login_error.too_long");
    return t("console.login_error.unreachable");
  }

  /** Show one step of the sign-in (a form id), hide the others, focus its first field. */
  function showStep(formId, focusId) {
    ["login-form", "newpw-form", "mfa-setup-form", "mfa-form"].forEach(function (id) {
      K.show($(id), id === formId);
    });
    if (focusId) $(focusId).focus();
  }

  function otpauthUri(secret, email) {
    var label = encodeURIComponent("Kindred:" + email);
    return "otpauth://totp/" + label + "?secret=" + encodeURIComponent(secret) + "&issuer=Kindred";
  }

  /** What Cognito answered: tokens (signed in) or the next challenge. */
  function onAuthAnswer(answer) {
    if (answer.AuthenticationResult && answer.AuthenticationResult.IdToken) {
      return signedIn(answer.AuthenticationResult);
    }
    pending.session = answer.Session;
    switch (answer.ChallengeName) {
      case "NEW_PASSWORD_REQUIRED":
        showStep("newpw-form", "new-password");
        return null;
      case "MFA_SETUP":
        return cognitoCall("AssociateSoftwareToken", { Session: pending.session }).then(function (assoc) {
          pending.session = assoc.Session || pending.session;
          $("mfa-secret").textContent = assoc.SecretCode;
          $("mfa-uri").href = otpauthUri(assoc.SecretCode, pending.email);
          showStep("mfa-setup-form", "mfa-setup-code");
        });
      case "SOFTWARE_TOKEN_MFA":
        showStep("mfa-form", "mfa-code");
        return null;
      default:
        var error = new Error("challenge");
        error.kind = "Challenge";
        throw error;
    }
  }

  function signedIn(result, setUpMfa) {
    pending = null;
    var refreshToken = result.RefreshToken || (auth && auth.refreshToken);
    auth = { idToken: result.IdToken, refreshToken: refreshToken, claims: claimsOf(result.IdToken) };
    scheduleRefresh();
    if (setUpMfa && result.AccessToken) {
      // TOTP becomes the account's preferred MFA; its failure does not undo the sign-in.
      cognitoCall("SetUserMFAPreference", {
        AccessToken: result.AccessToken,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      }).catch(function () {});
    }
    ["password", "new-password", "new-password-again", "mfa-setup-code", "mfa-code"].forEach(function (id) {
      $(id).value = "";
    });
    $("mfa-secret").textContent = "";
    showStep("login-form");
    enterConsole();
    return null;
  }

  /** Run one sign-in step: the button is off meanwhile, an error shows in `errorId`. */
  function step(event, submitId, errorId, focusId, work) {
    event.preventDefault();
    $(errorId).textContent = "";
    $(submitId).disabled = true;
    Promise.resolve()
      .then(work)
      .catch(function (err) {
        if (err && err.words) {
          $(errorId).textContent = err.words;
        } else {
          $(errorId).textContent = loginErrorWords(err);
        }
        $(focusId).focus();
      })
      .then(function () {
        $(submitId).disabled = false;
      });
  }

  function refused(words) {
    var error = new Error(words);
    error.words = words;
    return error;
  }

  function onLoginSubmit(event) {
    var email = $("email").value.trim();
    var password = $("password").value;
    step(event, "login-submit", "login-error", email ? "password" : "email", function () {
      if (!email || !password) throw refused(t("console.login_error.empty"));
      pending = { email: email, session: null };
      return initiateAuth(email, password).then(onAuthAnswer);
    });
  }

  function onNewPasswordSubmit(event) {
    var password = $("new-password").value;
    step(event, "newpw-submit", "newpw-error", "new-password", function () {
      if (password.length < 12) throw refused(t("console.login_error.short_password"));
      if (password !== $("new-password-again").value) throw refused(t("console.login_error.not_same"));
      return respond("NEW_PASSWORD_REQUIRED", { NEW_PASSWORD: password }).then(onAuthAnswer);
    });
  }

  function sixDigits(id) {
    var code = $(id).value.replace(/\s+/g, "");
    if (!/^[0-9]{6}$/.test(code)) throw refused(t("console.login_error.six_digits"));
    return code;
  }

  function onMfaSetupSubmit(event) {
    step(event, "mfa-setup-submit", "mfa-setup-error", "mfa-setup-code", function () {
      var code = sixDigits("mfa-setup-code");
      return cognitoCall("VerifySoftwareToken", {
        Session: pending.session,
        UserCode: code,
        FriendlyDeviceName: "Kindred console",
      })
        .then(function (verified) {
          return respond("MFA_SETUP", {}, verified.Session);
        })
        .then(function (answer) {
          if (answer.AuthenticationResult) return signedIn(answer.AuthenticationResult, true);
          return onAuthAnswer(answer);
        });
    });
  }

  function onMfaSubmit(event) {
    step(event, "mfa-submit", "mfa-error", "mfa-code", function () {
      var code = sixDigits("mfa-code");
      return respond("SOFTWARE_TOKEN_MFA", { SOFTWARE_TOKEN_MFA_CODE: code }).then(onAuthAnswer);
    });
  }

  /** Renew the ID token before it expires (REFRESH_TOKEN_AUTH) and tell the server (`reauth`). */
  function scheduleRefresh() {
    if (refreshTimer) window.clearTimeout(refreshTimer);
    refreshTimer = null;
    if (!auth || !auth.refreshToken || !auth.claims.exp) return;
    var wait = Math.max(10000, auth.claims.exp * 1000 - Date.now() - REFRESH_BEFORE_MS);
    refreshTimer = window.setTimeout(refreshNow, wait);
  }

  function refreshNow() {
    if (!auth) return Promise.resolve(false);
    return cognitoCall("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: config.cognito.clientId,
      AuthParameters: { REFRESH_TOKEN: auth.refreshToken },
    })
      .then(function (answer) {
        if (!auth || !answer.AuthenticationResult) return false;
        auth.idToken = answer.AuthenticationResult.IdToken;
        auth.claims = claimsOf(auth.idToken);
        scheduleRefresh();
        if (client) client.send({ action: "reauth", token: auth.idToken });
        return true;
      })
      .catch(function () {
        notice(t("console.renew_failed"), { kind: "warn" });
        return false;
      });
  }

  function enterConsole() {
    var name = auth.claims.name || auth.claims.given_name || auth.claims.email || t("console.a_volunteer");
    var signedIn = isSupervisor() ? "console.signed_in_supervisor" : isTrainee() ? "console.signed_in_trainee" : "console.signed_in";
    setText($("who"), signedIn, { name: name });
    K.show($("who"), true);
    K.show($("sign-out"), true);
    showAlertsBox(isSupervisor());
    K.show($("board-box"), isSupervisor());
    // A supervisor may play the seeker of a practice chat (web/js/practice.js, issue 13).
    if (K.practice && isSupervisor()) {
      K.practice.enter({
        config: config,
        token: function () {
          return auth && auth.idToken;
        },
      });
    }
    renderNotifyState();
    K.show($("view-login"), false);
    K.show($("view-console"), true);
    setConnected(false);
    setText($("status-text"), "console.status.connecting");
    connect();
    $("availability-toggle").focus();
  }

  /** The availability button works only on an open connection. */
  function setConnected(open) {
    $("availability-toggle").disabled = !open;
  }

  function signOut(reason) {
    if (K.practice) K.practice.leave();
    stopRenewal();
    if (client) client.close();
    client = null;
    K.accounts.reset();
    auth = null;
    pending = null;
    if (refreshTimer) window.clearTimeout(refreshTimer);
    refreshTimer = null;
    showStep("login-form");
    available = false;
    wantAvailable = false;
    signOutArmed = false;
    setText($("sign-out"), "console.sign_out");
    Object.keys(chats).forEach(function (id) {
      chats[id].node.remove();
    });
    chats = {};
    Object.keys(watching).forEach(function (id) {
      watching[id].node.remove();
    });
    watching = {};
    K.show($("watching-box"), false);
    ["board-chats", "board-volunteers"].forEach(function (id) {
      $(id).querySelector("tbody").replaceChildren();
    });
    $("board-queue").textContent = "";
    setText($("board-updated"), "board.waiting");
    lastBoard = null;
    unreadAlerts = 0;
    renderTitle();
    updateNoChats();
    $("alerts").replaceChildren();
    K.show($("alerts-empty"), true);
    renderStatus({ available: false, capacity: Number($("capacity").value), activeChats: 0 });
    K.care.reset();
    K.show($("who"), false);
    K.show($("sign-out"), false);
    K.show($("view-console"), false);
    K.show($("view-login"), true);
    if (reason) $("login-error").textContent = reason;
    $("email").focus();
  }

  function onSignOutClick() {
    var active = activeChatCount();
    if (active && !signOutArmed) {
      signOutArmed = true;
      setText($("sign-out"), "console.sign_out_armed", { count: active });
      return;
    }
    // After a shift, the check-in first (issue 12); it signs out once answered or skipped.
    var asked = K.care.beforeSignOut(function (words) {
      signOut();
      if (words) notice(words, { kind: "ok", clearAfterMs: 15000 });
    });
    if (!asked) signOut();
  }

  // ---- connection ---------------------------------------------------------------------------

  function connect() {
    client = new K.Client({
      url: function () {
        return K.socketUrl(config.websocketUrl, { token: auth.idToken });
      },
      onFrame: onFrame,
      onGatewayError: function () {
        notice(t("console.gateway_refused"), { kind: "warn", clearAfterMs: 10000 });
      },
      maxAttempts: MAX_RECONNECTS,
      onOpen: function (info) {
        setConnected(true);
        scheduleRenewal();
        // The board comes at once, then whenever it changes (a new connection asks again).
        if (isSupervisor()) client.send({ action: "board", subscribe: true });
        K.accounts.opened(client, auth.claims); // coordinators: the accounts list (issue 13)
        Object.keys(watching).forEach(function (id) {
          endWatch(watching[id], "console.watch.dropped");
        });
        if (info.reconnected) {
          // The server ended every chat when the connection closed and made us unavailable.
          Object.keys(chats).forEach(function (id) {
            if (!chats[id].ended) {
              markEnded(chats[id], "console.ended.dropped");
            }
          });
          notice(t("console.connected_again"), { kind: "ok", clearAfterMs: 5000 });
          if (wantAvailable) sendAvailability(true);
          else renderStatus({ available: false, capacity: Number($("capacity").value), activeChats: 0 });
        } else if (renewed) {
          // A connection renewed before the gateway's limit, with no chat open: back as before.
          renewed = false;
          notice(t("console.renew.done"), { kind: "ok", clearAfterMs: 8000 });
          if (wantAvailable) sendAvailability(true);
          else renderStatus({ available: false, capacity: Number($("capacity").value), activeChats: 0 });
        } else {
          notice(null);
          renderStatus({ available: false, capacity: Number($("capacity").value), activeChats: 0 });
        }
      },
      onDown: function () {
        setConnected(false);
        var exp = auth && auth.claims.exp;
        if (exp && exp * 1000 < Date.now()) {
          signOut(t("console.expired"));
          return;
        }
        notice(t("console.connection_dropped"), { kind: "warn" });
      },
      onGiveUp: function () {
        signOut(t("console.gave_up"));
      },
    });
    client.connect().catch(function () {
      /* onDown shows the state; the client keeps retrying */
    });
  }

  // ---- renewing the connection before the gateway closes it ---------------------------------
  // API Gateway closes every connection after config.maxConnectionSeconds (2 hours), and the
  // server ends a volunteer's chats with their connection. So from RENEW_LEAD before then the
  // console takes no new chat (capacity: the chats it has; the shift goes on) and opens a new
  // connection as soon as none is open; with WARN_LEAD left it says that open chats will end.

  var renewTimers = [];
  var renewing = false; // taking no new chat, until no chat is open
  var renewed = false; // the connection now opening replaces one closed on purpose

  function stopRenewal() {
    renewTimers.forEach(window.clearTimeout);
    renewTimers = [];
    renewing = false;
  }

  function scheduleRenewal() {
    stopRenewal();
    var max = (Number(config && config.maxConnectionSeconds) || 7200) * 1000;
    var lead = Math.min(30 * 60 * 1000, max / 4);
    var warn = Math.min(5 * 60 * 1000, max / 12);
    renewTimers = [window.setTimeout(startRenewing, max - lead), window.setTimeout(warnRenewal, max - warn)];
  }

  /** Busy: a chat of their own open, or (a supervisor) a chat they joined. */
  function busy() {
    var watched = Object.keys(watching).filter(function (id) {
      return !watching[id].ended;
    });
    return activeChatCount() > 0 || watched.length > 0;
  }

  function startRenewing() {
    renewing = true;
    if (!busy()) {
      renewNow();
      return;
    }
    holdNewChats();
    notice(t("console.renew.waiting"), { kind: "warn" });
  }

  function warnRenewal() {
    if (renewing && busy()) notice(t("console.renew.soon"), { kind: "warn" });
  }

  /** While renewing: the capacity of the chats open now, so that no new one comes. */
  function holdNewChats() {
    if (!wantAvailable || !activeChatCount()) return;
    var frame = { action: "availability", available: true, capacity: activeChatCount() };
    frame.topics = checkedValues("vol-topics");
    var languages = checkedValues("vol-languages");
    if (languages.length) frame.languages = languages;
    send(frame);
  }

  /** A chat ended or was left: while renewing, hold on, or renew at once once nothing is open
   * (the slot the end freed is gone with the old connection before the matcher, woken by the
   * end, can fill it; should it win, its `matched` finds the socket gone and the seeker goes
   * back to the front of the queue). */
  function afterChatEnded() {
    if (!renewing) return;
    if (busy()) holdNewChats();
    else renewNow();
  }

  function renewNow() {
    if (!client || busy()) return;
    stopRenewal();
    renewed = true;
    client.close();
    connect();
  }

  function send(frame) {
    if (client && client.send(frame)) return true;
    notice(t("console.offline"), { kind: "warn" });
    return false;
  }

  // ---- availability -------------------------------------------------------------------------

  function checkedValues(containerId) {
    return Array.prototype.map.call(
      document.querySelectorAll("#" + containerId + " input:checked"),
      function (box) {
        return box.value;
      }
    );
  }

  function sendAvailability(on) {
    var frame = { action: "availability", available: on, capacity: Number($("capacity").value) };
    var topics = checkedValues("vol-topics");
    var languages = checkedValues("vol-languages");
    frame.topics = topics;
    if (languages.length) frame.languages = languages;
    wantAvailable = on;
    send(frame);
  }

  function onAvailabilitySubmit(event) {
    event.preventDefault();
    if (!available) askToNotify();
    sendAvailability(!available);
  }

  function onAvailabilityChange() {
    if (available) sendAvailability(true);
  }

  var lastCapacity = 1;

  /** The status line; the chats in progress are counted here (`status` comes only as the
   * answer to `availability`, so its activeChats is stale after a match or an end). */
  function renderStatus(status) {
    if (status) {
      available = !!status.available;
      lastCapacity = status.capacity || 1;
    }
    var active = activeChatCount();
    var capacity = lastCapacity;
    if (available) {
      setText($("status-text"), "console.status.on", { active: active, capacity: capacity });
    } else if (active) {
      setText($("status-text"), "console.status.finishing", { count: active });
    } else {
      setText($("status-text"), "console.status.off");
    }
    $("status-dot").className = "dot" + (available ? " dot-on" : "");
    setText($("availability-toggle"), available ? "console.availability.stop" : "console.availability.start");
    $("availability-toggle").className = "btn " + (available ? "btn-secondary" : "btn-primary");
  }

  // ---- frames -------------------------------------------------------------------------------

  function onFrame(frame) {
    var chat = frame.sessionId ? chats[frame.sessionId] : null;
    var watched = frame.sessionId ? watching[frame.sessionId] : null;
    if (watched && onWatchFrame(watched, frame)) return;
    switch (frame.type) {
      case "board":
        if (isSupervisor()) {
          lastBoard = frame;
          K.board.render(frame, { onJoin: joinChat, isMine: isOwnChat });
        }
        break;
      case "joined":
        openWatch(frame);
        break;
      case "supervisor_joined":
        if (chat) onSupervisorJoined(chat, frame);
        break;
      case "supervisor_left":
        if (chat) onSupervisorLeft(chat);
        break;
      case "whisper":
        if (chat) {
          K.transcript.addWhisper(part(chat, "log"), t("console.whisper.from", { name: supervisorName(chat) }), frame.text, frame.sentAt);
          noteUnreadChat(chat);
        }
        break;
      case "escalated":
        if (chat) onEscalated(chat, frame);
        break;
      case "status":
        renderStatus(frame);
        K.care.onStatus(frame); // the shift, a pause, a check-in asked (issue 12)
        break;
      case "checked_in":
        K.care.onCheckedIn(frame);
        break;
      case "matched":
        openChat(frame);
        break;
      case "message":
        if (chat) {
          addPeerMessage(chat, frame);
          noteUnreadChat(chat);
        }
        break;
      case "typing":
        if (chat) showTyping(chat);
        break;
      case "ended":
        if (chat) markEnded(chat, ENDED_WORDS[frame.reason] || "console.ended.other", { alias: chat.alias });
        break;
      case "peer_away":
        if (chat) addSystemLine(chat, "console.peer_away", { alias: chat.alias });
        break;
      case "peer_back":
        if (chat) addSystemLine(chat, "console.peer_back", { alias: chat.alias });
        break;
      case "alert":
        onAlert(frame);
        break;
      case "assessed":
        if (chat) {
          setLevel(chat, frame.level);
          announce(t("console.announce.level_set", { level: levelName(frame.level), alias: chat.alias }));
        }
        pendingAssess = null;
        break;
      case "referral":
        // The card reached the person: this is the server's acknowledgement.
        if (chat && frame.item) {
          addSystemLine(chat, "console.referral.shared", { name: frame.item.name, alias: chat.alias });
          announce(t("console.referral.shared_announce", { name: frame.item.name, alias: chat.alias }));
        }
        pendingReferral = null;
        break;
      case "reported":
        if (pendingReport) panelNotice(pendingReport, t("console.report.sent"), "ok");
        pendingReport = null;
        break;
      case "accounts":
        K.accounts.render(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // pong, resources and anything newer
    }
  }

  function onError(frame) {
    if (frame.action === "accounts" && frame.code !== "session_expired") {
      K.accounts.onError(frame); // issue 13
      return;
    }
    if (["join", "leave", "whisper", "escalate"].indexOf(frame.action) >= 0) {
      // The server's own words say what went wrong (another supervisor joined, the chat ended).
      notice(frame.message || t(ERROR_WORDS[frame.code] || "console.error.failed"), {
        kind: "warn",
        clearAfterMs: 8000,
      });
      return;
    }
    if (frame.code === "session_expired") {
      // The server closes the connection next: sign in again (chats were ended for the seekers).
      signOut(frame.message || t("console.expired"));
      return;
    }
    if (frame.code === "reauth_failed") {
      notice(t("console.renew_failed"), { kind: "warn" });
      return;
    }
    var words = t(ERROR_WORDS[frame.code] || "console.error.generic");
    if (frame.code === "contact_details" && frame.clientMsgId) {
      // The server names what it found (issue 12); the message stays in the transcript, marked.
      markNotSent(frame.clientMsgId, frame.message || words);
      notice(t("console.contact_not_sent"), { kind: "warn", clearAfterMs: 8000 });
      return;
    }
    if (frame.action === "message" && frame.clientMsgId) {
      markNotSent(frame.clientMsgId, words);
      return;
    }
    if (frame.action === "typing" || frame.action === "ping") return;
    if (frame.action === "report" && pendingReport) {
      panelNotice(pendingReport, t("console.report.failed", { reason: words }), "warn");
      pendingReport = null;
      return;
    }
    if (frame.action === "referral" && pendingReferral) {
      panelNotice(pendingReferral, t("console.referral.failed", { reason: words }), "warn");
      pendingReferral = null;
      return;
    }
    if (frame.action === "assess" && pendingAssess) {
      panelNotice(pendingAssess, t("console.level.failed", { reason: words }), "warn");
      pendingAssess.levelEdited = false;
      setLevel(pendingAssess, pendingAssess.level); // the control shows the level as it is
      pendingAssess = null;
      return;
    }
    notice(words, { kind: "warn", clearAfterMs: 8000 });
  }

  var LEVEL_NAMES = {
    none: "console.level.word.none",
    concern: "console.level.word.concern",
    high: "console.level.word.high",
    imminent: "console.level.word.imminent",
  };

  /** A level as a word in a sentence ("high"). */
  function levelName(level) {
    return t(LEVEL_NAMES[level] || LEVEL_NAMES.none);
  }

  /**
   * Where an alert is, as a line of text and the chat's short reference (its own element, so
   * that it reads as a code): the people in the chat (names and aliases only), the chat.
   * An alert about a seeker still waiting (sessionId "") has no chat to name yet.
   */
  function alertWhere(frame, chat) {
    var line = el("p", { className: "alert-where" });
    function add(text) {
      line.appendChild(document.createTextNode(text));
    }
    function addRef() {
      line.appendChild(el("span", { className: "chat-ref" }, chatRef(frame.sessionId)));
    }
    if (frame.kind === "debrief") {
      add(t("console.alert.debrief_where", { name: frame.volunteer || t("board.a_volunteer") }));
      return line;
    }
    if (chat) {
      add(t("console.alert.your_chat", { alias: chat.alias }) + " · ");
      addRef();
      return line;
    }
    if (!frame.sessionId) {
      var seeker = frame.seeker ? t("common.name_seeker", { name: frame.seeker }) : t("board.a_seeker");
      add(t(frame.kind === "risk" ? "console.alert.waiting_moved" : "console.alert.waiting", { seeker: seeker }));
      return line;
    }
    var who = frame.seeker ? t("common.name_seeker", { name: frame.seeker }) : "";
    var volunteer = frame.volunteer ? t("common.name_volunteer", { name: frame.volunteer }) : "";
    if (who && volunteer) who = t("console.alert.with", { seeker: who, volunteer: volunteer });
    else who = who || volunteer;
    if (who) add(who + " · ");
    addRef();
    if (frame.startedAt) add(t("console.alert.started", { time: K.clockTime(frame.startedAt) }));
    return line;
  }

  function onAlert(frame) {
    var chat = frame.sessionId ? chats[frame.sessionId] : null;
    if (chat && frame.kind === "risk") {
      setLevel(chat, frame.level || "high");
      announce(t("console.announce.level_in_chat", { level: levelName(chat.level), alias: chat.alias }));
    } else if (chat && frame.kind === "escalation") {
      K.show(part(chat, "risk"), true);
      chat.node.classList.add("has-risk");
    }
    // An alert about one of the volunteer's own chats is counted once, as that chat.
    if (chat) noteUnreadChat(chat);
    callAttention("alert", alertTitle(frame), chat ? chat.alias : frame.seeker || frame.volunteer, function () {
      if (chat && chats[chat.sessionId]) focusChat(chat);
      else focusAlerts();
    });
    if (!isSupervisor() && chat) return;
    // Supervisors see every alert; a volunteer sees here only those not about their own chats.
    showAlertsBox(true);
    K.show($("alerts-empty"), false);
    var where = alertWhere(frame, chat);
    var known = frame.kind === "risk" ? levelOf(frame.level) : null;
    var level = known && known.tag ? frame.level : null;
    var item = el("li", { className: "alert-" + frame.kind + (level ? " alert-level-" + level : "") });
    item.dataset.sessionId = frame.sessionId || "";
    var head = el("p", { className: "alert-head" });
    if (level) {
      head.appendChild(el("span", { className: "level-tag", "data-level": level }, t(LEVELS[level].tag)));
      head.appendChild(document.createTextNode(" "));
    }
    head.appendChild(el("strong", {}, t(ALERT_WORDS[frame.kind] || "console.alert.other")));
    head.appendChild(document.createTextNode(" · " + K.clockTime(frame.at)));
    item.appendChild(head);
    item.appendChild(where);
    if (frame.note) item.appendChild(el("p", { className: "alert-note", dir: "auto" }, t("console.alert.note", { note: frame.note })));
    if (frame.kind === "escalation" && isSupervisor() && frame.sessionId && !watching[frame.sessionId]) {
      var join = el("button", { type: "button", className: "btn btn-secondary btn-small" }, t("console.alert.join"));
      join.addEventListener("click", function () {
        join.disabled = true;
        joinChat(frame.sessionId);
      });
      item.appendChild(join);
    }
    $("alerts").insertBefore(item, $("alerts").firstChild);
    if (!chat) noteUnreadAlert();
    // A waiting seeker's alert can arrive after the matcher already gave them to this console
    // (two functions, each posting in its own time): "New chat with ..." said it, with the risk
    // level, and a stale "still waiting" must not be the last thing a screen reader heard.
    if (!chat && !alreadyMine(frame)) {
      var what = t(ALERT_WORDS[frame.kind] || "console.alert.other");
      announce(
        level
          ? t("console.announce.alert_level", { level: levelName(level), what: what, where: where.textContent })
          : t("console.announce.alert", { what: what, where: where.textContent })
      );
    }
  }

  /** A waiting seeker's alert about someone who is already in one of this console's chats. */
  function alreadyMine(frame) {
    if (frame.sessionId || !frame.seeker) return false;
    return Object.keys(chats).some(function (id) {
      return !chats[id].ended && chats[id].alias === frame.seeker;
    });
  }

  /** After a click on a notification: the chat's message box, scrolled to (the volunteer asked). */
  function focusChat(chat) {
    var box = part(chat, "composer").querySelector("textarea");
    if (!box.disabled) box.focus();
    else chat.node.querySelector('[data-act="close"]').focus();
    markChatRead(chat);
  }

  function focusAlerts() {
    $("alerts").focus();
    markAlertsRead();
  }

  // ---- chat panels --------------------------------------------------------------------------

  function part(chat, role) {
    return chat.node.querySelector('[data-role="' + role + '"]');
  }

  /** A new panel from a template, its ids and labels made unique, about this chat. */
  function newPanel(templateId, kind, sessionId) {
    panelCount += 1;
    var node = $(templateId).content.firstElementChild.cloneNode(true);
    var prefix = kind + panelCount + "-";
    node.querySelectorAll("[data-id]").forEach(function (n) {
      n.id = prefix + n.dataset.id;
    });
    node.querySelectorAll("[data-for]").forEach(function (n) {
      n.setAttribute("for", prefix + n.dataset.for);
    });
    node.setAttribute("aria-labelledby", prefix + "title");
    node.dataset.sessionId = sessionId;
    return node;
  }

  function openChat(frame) {
    var node = newPanel("chat-panel-template", "chat", frame.sessionId);
    var alias = (frame.peer && frame.peer.alias) || t("console.someone");
    var chat = {
      sessionId: frame.sessionId,
      alias: alias,
      node: node,
      sendSeq: 0,
      lastTypingSent: 0,
      typingTimer: null,
      ended: false,
      unread: false, // something in it the volunteer has not looked at yet (the title counts it)
      level: "none",
      levelEdited: false, // the Risk level control holds a choice not sent yet
    };
    chats[frame.sessionId] = chat;
    part(chat, "alias").textContent = alias;
    part(chat, "ref").textContent = chatRef(frame.sessionId);
    part(chat, "log").setAttribute("aria-label", t("console.panel.log_label", { alias: alias }));
    setText(part(chat, "composer").querySelector("label"), "console.panel.message_to", { alias: alias });
    var topics = (frame.topics || []).map(topicLabel).join(", ");
    if (topics) setText(part(chat, "topics"), "console.panel.topics", { topics: topics });
    else setText(part(chat, "topics"), "console.panel.no_topic");
    if (frame.intro) {
      part(chat, "intro").textContent = frame.intro;
      K.show(part(chat, "intro-box"), true);
    }
    if (frame.note) {
      part(chat, "note").textContent = frame.note;
      K.show(part(chat, "note-box"), true);
    }
    setLevel(chat, frame.risk || "none");
    fillReferrals(chat, frame.topics || []);
    fillCannedReplies(chat);
    wirePanel(chat);
    $("chats").appendChild(node);
    updateNoChats();
    renderStatus();
    addSystemLine(chat, "console.now_talking", { alias: alias });
    // The focus stays where the volunteer is (they may be typing in another chat): the new
    // panel is announced, counted in the title until seen, and reached by Tab or its heading.
    announce(
      frame.risk
        ? t("console.announce.new_chat_risk", { alias: alias, level: levelName(frame.risk) })
        : t("console.announce.new_chat", { alias: alias })
    );
    noteUnreadChat(chat);
    callAttention("chat", t("console.new_chat"), alias, function () {
      if (chats[chat.sessionId]) focusChat(chat);
    });
  }

  /** Show the chat's risk level: the words, the banner, the control's value, the border. */
  function setLevel(chat, level) {
    level = levelOf(level) ? level : "none";
    chat.level = level;
    part(chat, "level-now").dataset.level = level;
    setText(part(chat, "level-word"), LEVELS[level].words);
    // A choice the volunteer has made in the control but not sent yet is theirs: a level
    // arriving meanwhile (an alert, the answer to an earlier `assess`) does not undo it.
    if (!chat.levelEdited) part(chat, "level-form").querySelector("select").value = level;
    var banner = part(chat, "risk");
    if (LEVELS[level].banner) setText(banner, LEVELS[level].banner);
    K.show(banner, level !== "none");
    chat.node.classList.toggle("has-risk", level !== "none");
    chat.node.classList.toggle("is-imminent", level === "imminent");
  }

  function activeChatCount() {
    return Object.keys(chats).filter(function (id) {
      return !chats[id].ended;
    }).length;
  }

  function updateNoChats() {
    K.show($("no-chats"), Object.keys(chats).length === 0);
  }

  // ---- referrals and quick replies (issue 12) -------------------------------------------------

  function countryName(code) {
    try {
      return new Intl.DisplayNames([K.i18n.language()], { type: "region" }).of(code) || code;
    } catch (err) {
      return code;
    }
  }

  function referralById(id) {
    var services = (config && config.referrals) || [];
    for (var i = 0; i < services.length; i += 1) if (services[i].id === id) return services[i];
    return null;
  }

  /** The directory's services by country (the deployment's own first); the first one for one of
   * the chat's topics is chosen to start with. No directory: no "Share a service". */
  function fillReferrals(chat, topics) {
    var services = (config && config.referrals) || [];
    K.show(chat.node.querySelector('[data-act="referral"]'), services.length > 0);
    var select = part(chat, "referral-form").querySelector("select");
    var byCountry = {};
    services.forEach(function (service) {
      (byCountry[service.country] = byCountry[service.country] || []).push(service);
    });
    var home = config.defaultCountry || "";
    var countries = Object.keys(byCountry).sort(function (a, b) {
      if (a === home || b === home) return a === home ? -1 : 1;
      return countryName(a).localeCompare(countryName(b));
    });
    var fits = null;
    countries.forEach(function (code) {
      var group = el("optgroup", { label: countryName(code) });
      byCountry[code].forEach(function (service) {
        group.appendChild(el("option", { value: service.id }, service.name));
        var forTopic = (service.topics || []).some(function (t) {
          return topics.indexOf(t) >= 0;
        });
        if (!fits && forTopic) fits = service.id;
      });
      select.appendChild(group);
    });
    if (fits) select.value = fits;
    showReferralPreview(chat);
  }

  /** What the chosen service is, how it is reached, when and for what: before it is sent. */
  function showReferralPreview(chat) {
    var box = part(chat, "referral-preview");
    var service = referralById(part(chat, "referral-form").querySelector("select").value);
    box.replaceChildren();
    if (!service) return;
    box.appendChild(el("p", { dir: "auto" }, service.description));
    var reach = [];
    if (service.phone) reach.push(t("common.call", { number: service.phone }));
    if (service.sms) reach.push(t("common.text", { number: service.sms }));
    if (service.url) reach.push(service.url);
    box.appendChild(el("p", { className: "small" }, reach.join(" · ")));
    box.appendChild(
      el(
        "p",
        { className: "small muted", dir: "auto" },
        t("console.referral.preview", {
          hours: service.hours,
          topics: (service.topics || []).map(topicLabel).join(", "),
          languages: (service.languages || []).map(K.languageName).join(", "),
        })
      )
    );
  }

  /** The quick replies of the languages the volunteer ticked (all of them when none is). */
  function fillCannedReplies(chat) {
    var replies = (config && config.cannedReplies) || {};
    var ticked = checkedValues("vol-languages");
    var languages = Object.keys(replies).filter(function (code) {
      return !ticked.length || ticked.indexOf(code) >= 0;
    });
    var select = part(chat, "canned").querySelector("select");
    select.appendChild(K.i18n.tel("option", { value: "" }, "console.canned.choose"));
    var count = 0;
    languages.forEach(function (code) {
      var group = el("optgroup", { label: K.languageName(code) });
      (replies[code] || []).forEach(function (text, index) {
        group.appendChild(el("option", { value: code + ":" + index, lang: code }, text));
        count += 1;
      });
      select.appendChild(group);
    });
    K.show(part(chat, "canned"), count > 0);
  }

  /** The chosen reply goes into the message box at the cursor, for the volunteer to edit. */
  function insertReply(chat) {
    var select = part(chat, "canned").querySelector("select");
    var box = part(chat, "composer").querySelector("textarea");
    var picked = select.value.split(":");
    var replies = (config && config.cannedReplies) || {};
    var text = picked.length === 2 ? (replies[picked[0]] || [])[Number(picked[1])] : null;
    if (text && !chat.ended) {
      if (!box.value) box.value = text;
      else box.setRangeText(text, box.selectionStart, box.selectionEnd, "end");
      select.value = "";
    }
    box.focus();
  }

  function wirePanel(chat) {
    var node = chat.node;
    var forms = ["escalate-form", "referral-form", "transfer-form", "report-form", "block-form"];
    var openers = {
      escalate: "escalate-form",
      referral: "referral-form",
      transfer: "transfer-form",
      report: "report-form",
      block: "block-form",
    };

    function closeForms() {
      forms.forEach(function (role) {
        K.show(part(chat, role), false);
      });
      node.querySelectorAll("[data-act][aria-expanded]").forEach(function (b) {
        b.setAttribute("aria-expanded", "false");
      });
    }

    node.querySelectorAll("[data-act]").forEach(function (button) {
      button.addEventListener("click", function () {
        var act = button.dataset.act;
        if (act === "end") {
          send({ action: "end", sessionId: chat.sessionId });
        } else if (act === "insert-reply") {
          insertReply(chat);
        } else if (act === "close") {
          delete chats[chat.sessionId];
          node.remove();
          renderTitle();
          updateNoChats();
          $("chats-title").setAttribute("tabindex", "-1");
          $("chats-title").focus();
        } else if (act === "cancel") {
          var opener = node.querySelector('[aria-expanded="true"]');
          closeForms();
          if (opener) opener.focus();
        } else if (openers[act]) {
          var form = part(chat, openers[act]);
          var wasOpen = !form.hidden;
          closeForms();
          if (!wasOpen) {
            K.show(form, true);
            button.setAttribute("aria-expanded", "true");
            var first = form.querySelector("textarea, select, button");
            if (first) first.focus();
          }
        }
      });
    });

    var box = wireTextForm(chat, part(chat, "composer"), function (text) {
      if (!sendMessage(chat, text)) return false;
      return true;
    });
    box.addEventListener("input", function () {
      var now = Date.now();
      if (!chat.ended && box.value && now - chat.lastTypingSent > TYPING_EVERY_MS) {
        chat.lastTypingSent = now;
        send({ action: "typing", sessionId: chat.sessionId });
      }
    });

    forms.forEach(function (role) {
      part(chat, role).addEventListener("keydown", function (event) {
        if (event.key !== "Escape") return;
        var opener = node.querySelector('[aria-expanded="true"]');
        closeForms();
        if (opener) opener.focus();
      });
    });

    // A button sends the level, not the select's change event: moving through the options
    // with the arrow keys would otherwise send every level passed on the way.
    var levelSelect = part(chat, "level-form").querySelector("select");
    levelSelect.addEventListener("change", function () {
      chat.levelEdited = levelSelect.value !== chat.level;
    });
    part(chat, "level-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (chat.ended) return;
      if (send({ action: "assess", sessionId: chat.sessionId, level: levelSelect.value })) {
        chat.levelEdited = false;
        pendingAssess = chat;
      }
    });

    var service = part(chat, "referral-form").querySelector("select");
    service.addEventListener("change", function () {
      showReferralPreview(chat);
    });
    part(chat, "referral-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (chat.ended || !service.value) return;
      if (send({ action: "referral", sessionId: chat.sessionId, id: service.value })) {
        pendingReferral = chat;
        closeForms();
        node.querySelector('[data-act="referral"]').focus();
      }
    });
    part(chat, "escalate-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = part(chat, "escalate-form");
      var frame = { action: "escalate", sessionId: chat.sessionId };
      var note = form.querySelector("textarea").value.trim();
      if (note) frame.note = note;
      if (send(frame)) {
        form.reset();
        closeForms();
        panelNotice(chat, t("console.escalate.asking"));
        node.querySelector('[data-act="escalate"]').focus();
      }
    });
    wireWhisper(chat);

    part(chat, "transfer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var frame = { action: "transfer", sessionId: chat.sessionId };
      var note = part(chat, "transfer-form").querySelector("textarea").value.trim();
      if (note) frame.note = note;
      if (send(frame)) closeForms();
    });
    part(chat, "report-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = part(chat, "report-form");
      var frame = { action: "report", sessionId: chat.sessionId, reason: form.querySelector("select").value };
      var details = form.querySelector("textarea").value.trim();
      if (details) frame.details = details;
      if (send(frame)) {
        pendingReport = chat;
        form.reset();
        closeForms();
        node.querySelector('[data-act="report"]').focus();
      }
    });
    part(chat, "block-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (send({ action: "block", sessionId: chat.sessionId })) closeForms();
    });
  }

  /**
   * A panel's form with a text box (a reply, a whisper): the button or Enter (Shift + Enter
   * makes a new line; see K.enterSends) gives its text to `sendText`, which says whether it
   * went (then the box is emptied). Returns the box.
   */
  function wireTextForm(panel, form, sendText) {
    var box = form.querySelector("textarea");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = box.value.trim();
      if (!text || panel.ended) return;
      if (sendText(text)) box.value = "";
      box.focus();
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && K.enterSends()) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    return box;
  }

  function addSystemLine(chat, key, vars) {
    var log = part(chat, "log");
    log.appendChild(K.i18n.tel("p", { className: "msg-system", dir: "auto" }, key, vars));
    log.scrollTop = log.scrollHeight;
  }

  function panelNotice(chat, words, kind) {
    var box = part(chat, "panel-notice");
    box.textContent = words;
    box.className = "notice" + (kind ? " notice-" + kind : "");
    K.show(box, true);
  }

  function addPeerMessage(chat, frame) {
    hideTyping(chat);
    var who = frame.from === "supervisor" ? t("console.supervisor_named", { name: supervisorName(chat) }) : chat.alias;
    K.transcript.addPeer(part(chat, "log"), who, frame);
  }

  function sendMessage(chat, text) {
    var id = K.newId("v");
    var frame = { action: "message", sessionId: chat.sessionId, text: text, clientMsgId: id, seq: chat.sendSeq };
    if (!send(frame)) return false;
    chat.sendSeq += 1;
    K.transcript.addMine(part(chat, "log"), text, id);
    return true;
  }

  function markNotSent(clientMsgId, words) {
    K.transcript.markNotSent($("main"), clientMsgId, words);
  }

  function showTyping(chat) {
    part(chat, "typing").textContent = t("common.typing", { alias: chat.alias });
    window.clearTimeout(chat.typingTimer);
    chat.typingTimer = window.setTimeout(function () {
      hideTyping(chat);
    }, TYPING_SHOWN_MS);
  }

  function hideTyping(chat) {
    window.clearTimeout(chat.typingTimer);
    part(chat, "typing").textContent = "";
  }

  function markEnded(chat, key, vars) {
    if (chat.ended) return;
    chat.ended = true;
    hideTyping(chat);
    chat.node.classList.add("is-ended");
    panelNotice(chat, t(key, vars));
    var composer = part(chat, "composer");
    composer.querySelectorAll("textarea, button").forEach(function (n) {
      n.disabled = true;
    });
    part(chat, "level-form").querySelectorAll("select, button").forEach(function (n) {
      n.disabled = true;
    });
    K.show(composer, false);
    ["escalate", "end", "referral", "transfer", "block"].forEach(function (act) {
      K.show(chat.node.querySelector('[data-act="' + act + '"]'), false);
    });
    K.show(part(chat, "canned"), false);
    K.show(part(chat, "referral-form"), false);
    K.show(part(chat, "escalate-form"), false);
    K.show(part(chat, "whisper-form"), false);
    K.show(part(chat, "supervisor-here"), false);
    K.show(part(chat, "transfer-form"), false);
    K.show(part(chat, "block-form"), false);
    K.show(chat.node.querySelector('[data-act="close"]'), true);
    renderStatus();
    announce(t("console.announce.chat_ended", { alias: chat.alias }));
    afterChatEnded();
  }

  // ---- supervision (issue 12) -----------------------------------------------------------------

  function isOwnChat(sessionId) {
    return !!chats[sessionId] && !chats[sessionId].ended;
  }

  function supervisorName(chat) {
    return chat.supervisor || "";
  }

  /** The whisper box of a panel (a volunteer's own chat, or one a supervisor joined). */
  function wireWhisper(panel) {
    wireTextForm(panel, part(panel, "whisper-form"), function (text) {
      if (!send({ action: "whisper", sessionId: panel.sessionId, text: text })) return false;
      K.transcript.addWhisper(part(panel, "log"), t("console.whisper.you"), text, null, true);
      return true;
    });
  }

  function onEscalated(chat, frame) {
    var words;
    if (!frame.sent) {
      words = t("console.escalated.already", { time: K.clockTime(frame.alertedAt) });
    } else if (!frame.supervisorsOnShift) {
      words = t("console.escalated.nobody");
    } else {
      words = t("console.escalated.sent", { count: frame.supervisorsOnShift, time: K.clockTime(frame.alertedAt) });
    }
    panelNotice(chat, words, frame.sent && frame.supervisorsOnShift ? "ok" : "warn");
    announce(words);
  }

  function onSupervisorJoined(chat, frame) {
    chat.supervisor = frame.supervisor || t("console.a_supervisor");
    var here = part(chat, "supervisor-here");
    setText(here, "console.supervisor.here", { name: chat.supervisor });
    K.show(here, true);
    K.show(part(chat, "whisper-form"), true);
    addSystemLine(chat, "console.supervisor.joined", { name: chat.supervisor, alias: chat.alias });
    announce(t("console.supervisor.joined_announce", { name: chat.supervisor, alias: chat.alias }));
  }

  function onSupervisorLeft(chat) {
    var name = chat.supervisor || t("console.the_supervisor");
    chat.supervisor = null;
    K.show(part(chat, "supervisor-here"), false);
    K.show(part(chat, "whisper-form"), false);
    addSystemLine(chat, "console.supervisor.left", { name: name });
  }

  function joinChat(sessionId) {
    if (watching[sessionId]) {
      watching[sessionId].node.scrollIntoView({ block: "nearest" });
      return;
    }
    send({ action: "join", sessionId: sessionId });
  }

  /** A chat this supervisor joined: its panel, from the join on. */
  function openWatch(frame) {
    var node = newPanel("watch-panel-template", "watch", frame.sessionId);
    var watch = {
      sessionId: frame.sessionId,
      seeker: frame.seeker || t("console.the_seeker"),
      volunteer: frame.volunteer || t("console.the_volunteer"),
      node: node,
      sendSeq: 0,
      ended: false,
    };
    watching[frame.sessionId] = watch;
    part(watch, "seeker").textContent = watch.seeker;
    part(watch, "volunteer").textContent = watch.volunteer;
    part(watch, "ref").textContent = chatRef(frame.sessionId);
    setText(part(watch, "since"), "console.watch.started", { time: K.clockTime(frame.startedAt) });
    showWatchLevel(watch, frame.level);
    part(watch, "log").setAttribute("aria-label", t("console.watch.log_label", { seeker: watch.seeker, volunteer: watch.volunteer }));
    wireWatch(watch);
    // An escalation's "Join this chat" is done with.
    $("alerts")
      .querySelectorAll("li")
      .forEach(function (item) {
        var button = item.dataset.sessionId === frame.sessionId && item.querySelector("button");
        if (button) {
          button.disabled = true;
          setText(button, "board.joined");
        }
      });
    $("watching").appendChild(node);
    K.show($("watching-box"), true);
    addSystemLine(watch, "console.watch.joined", { seeker: watch.seeker, volunteer: watch.volunteer });
    announce(t("console.watch.joined_announce", { seeker: watch.seeker, volunteer: watch.volunteer }));
    part(watch, "composer").querySelector("textarea").focus();
  }

  function wireWatch(watch) {
    wireTextForm(watch, part(watch, "composer"), function (text) {
      return sendMessage(watch, text);
    });
    wireWhisper(watch);
    watch.node.querySelector('[data-act="leave"]').addEventListener("click", function () {
      send({ action: "leave", sessionId: watch.sessionId });
    });
    watch.node.querySelector('[data-act="close"]').addEventListener("click", function () {
      delete watching[watch.sessionId];
      watch.node.remove();
      K.show($("watching-box"), Object.keys(watching).length > 0);
      $("watching-title").setAttribute("tabindex", "-1");
      $("watching-title").focus();
    });
  }

  function showWatchLevel(watch, level) {
    level = levelOf(level) ? level : "none";
    part(watch, "level-now").dataset.level = level;
    setText(part(watch, "level-word"), LEVELS[level].words);
    watch.node.classList.toggle("has-risk", level !== "none");
  }

  /** A frame about a chat this supervisor joined; false for what the rest handles (alerts). */
  function onWatchFrame(watch, frame) {
    var log = part(watch, "log");
    switch (frame.type) {
      case "alert":
        if (frame.kind === "risk" && frame.level) showWatchLevel(watch, frame.level);
        return false; // listed with the other alerts too
      case "message":
        K.transcript.addPeer(
          log,
          frame.from === "volunteer"
            ? t("common.name_volunteer", { name: watch.volunteer })
            : t("common.name_seeker", { name: watch.seeker }),
          frame
        );
        return true;
      case "whisper":
        K.transcript.addWhisper(log, t("console.whisper.from", { name: watch.volunteer }), frame.text, frame.sentAt);
        return true;
      case "peer_away":
        addSystemLine(watch, "console.peer_away", { alias: watch.seeker });
        return true;
      case "peer_back":
        addSystemLine(watch, "console.peer_back", { alias: watch.seeker });
        return true;
      case "ended":
        endWatch(watch, "console.ended.other");
        return true;
      case "supervisor_left":
        endWatch(watch, "console.watch.left");
        return true;
      default:
        return false;
    }
  }

  function endWatch(watch, key) {
    if (watch.ended) return;
    watch.ended = true;
    var words = t(key);
    watch.node.classList.add("is-ended");
    panelNotice(watch, words);
    addSystemLine(watch, key);
    ["composer", "whisper-form"].forEach(function (role) {
      part(watch, role).querySelectorAll("textarea, button").forEach(function (n) {
        n.disabled = true;
      });
      K.show(part(watch, role), false);
    });
    K.show(watch.node.querySelector('[data-act="leave"]'), false);
    K.show(watch.node.querySelector('[data-act="close"]'), true);
    announce(words);
    afterChatEnded();
  }

  // ---- start --------------------------------------------------------------------------------

  var lastBoard = null; // the last board frame, to draw it again in another language

  /** After a switch of language: what the console drew itself, drawn again. */
  function redraw() {
    renderTitle();
    if (config) {
      (config.topics || []).forEach(function (topic, index) {
        var box = $("vol-topic-" + index);
        if (box) box.nextElementSibling.textContent = topicLabel(topic.id);
      });
      document.querySelectorAll("#vol-languages input").forEach(function (box) {
        box.nextElementSibling.textContent = K.languageName(box.value);
      });
    }
    if (lastBoard && isSupervisor()) K.board.render(lastBoard, { onJoin: joinChat, isMine: isOwnChat });
  }

  function fillAvailability() {
    var preferred = (navigator.language || "en").split("-")[0];
    (config.topics || []).forEach(function (topic, index) {
      var id = "vol-topic-" + index;
      var label = el("label", { className: "check", for: id });
      label.appendChild(el("input", { type: "checkbox", id: id, value: topic.id }));
      label.appendChild(el("span", {}, topicLabel(topic.id)));
      $("vol-topics").appendChild(label);
    });
    var languages = config.languages && config.languages.length ? config.languages : ["en"];
    languages.forEach(function (code, index) {
      var id = "vol-language-" + index;
      var label = el("label", { className: "check", for: id });
      var box = el("input", { type: "checkbox", id: id, value: code });
      if (code === preferred || (languages.indexOf(preferred) < 0 && index === 0)) box.checked = true;
      label.appendChild(box);
      label.appendChild(el("span", {}, K.languageName(code)));
      $("vol-languages").appendChild(label);
    });
  }

  function start() {
    startAttention();
    K.care.init({ send: send, announce: announce });
    $("login-form").addEventListener("submit", onLoginSubmit);
    $("newpw-form").addEventListener("submit", onNewPasswordSubmit);
    $("mfa-setup-form").addEventListener("submit", onMfaSetupSubmit);
    $("mfa-form").addEventListener("submit", onMfaSubmit);
    $("availability-form").addEventListener("submit", onAvailabilitySubmit);
    $("availability-form").addEventListener("change", onAvailabilityChange);
    $("sign-out").addEventListener("click", onSignOutClick);
    $("sign-out").addEventListener("blur", function () {
      signOutArmed = false;
      setText($("sign-out"), "console.sign_out");
    });
    K.i18n.onChange(redraw);
    $("login-submit").disabled = true;
    Promise.all([K.loadConfig(), K.i18n.ready])
      .then(function (loaded) {
        config = loaded[0];
        fillAvailability();
        $("login-submit").disabled = false;
      })
      .catch(function () {
        $("login-error").textContent = t("console.cannot_start");
      });
  }

  K.volunteerConsole = {
    client: function () {
      return client;
    },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
