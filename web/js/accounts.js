/* Kindred: staff accounts in the console, for coordinators (issue 13).
 *
 * A coordinator is a supervisor also in the Cognito group `coordinators`. When the console's
 * connection opens and the ID token says so, this asks the server for the list (`accounts`,
 * op `list`); the section is shown only once the server has answered with an `accounts`
 * frame (docs/protocol.md, "Accounts"): the server is the judge, the token only a hint. Every
 * change answers the new list. Names and addresses are set as text, never as HTML.
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var el = K.el;
  var client = null;
  var armed = null; // the Remove button waiting for its confirmation

  var GROUP_NAMES = { volunteers: "Volunteer", supervisors: "Supervisor", trainees: "Trainee" };
  var STATUS_NAMES = {
    FORCE_CHANGE_PASSWORD: "Invited: has not signed in yet",
    CONFIRMED: "Active",
    RESET_REQUIRED: "Must reset their password",
  };
  var DONE_WORDS = {
    invite: "Invitation sent: Cognito e-mailed a temporary password. At their first sign-in they choose a password and set up their authenticator app.",
    set_group: "Group changed. It applies from their next sign-in.",
    disable: "Account disabled and signed out: they cannot sign in, and any open console closes within a minute.",
    enable: "Account enabled: they can sign in again.",
    remove: "Account removed.",
    sign_out: "Signed out everywhere: their console cannot renew its sign-in and closes within the hour; disable the account to close it at once.",
  };
  var ERROR_WORDS = {
    not_allowed: "Your account can't do that.",
    invalid_request: "That didn't go through. Please check it and try again.",
    rate_limited: "Too many changes at once, or Cognito's e-mail limit was reached. Please try again later.",
    session_expired: "Your sign-in has expired. Please sign in again.",
    internal: "Something went wrong on the server. Please try again in a moment.",
  };

  function $(id) {
    return document.getElementById(id);
  }

  function say(words, kind) {
    var box = $("accounts-message");
    box.className = "notice notice-" + (kind || "ok");
    box.textContent = words;
    K.show(box, !!words);
  }

  function send(frame) {
    if (!client) return;
    client.send(Object.assign({ action: "accounts" }, frame));
  }

  /** The connection opened: ask for the list if the token says coordinator. */
  function opened(theClient, claims) {
    client = theClient;
    var groups = (claims && claims["cognito:groups"]) || [];
    if (groups.indexOf("supervisors") >= 0 && groups.indexOf("coordinators") >= 0) {
      send({ op: "list" });
    }
  }

  function reset() {
    client = null;
    armed = null;
    K.show($("accounts-box"), false);
    $("accounts-table").querySelector("tbody").replaceChildren();
    say("");
  }

  function render(frame) {
    K.show($("accounts-box"), true);
    armed = null;
    var rows = (frame.accounts || []).map(row);
    var body = $("accounts-table").querySelector("tbody");
    body.replaceChildren.apply(body, rows);
    if (frame.op && frame.op !== "list") {
      say(DONE_WORDS[frame.op] || "Done.", "ok");
      if (frame.op === "invite") $("invite-form").reset();
    }
    setBusy(false);
  }

  function onError(frame) {
    setBusy(false);
    if (frame.code === "not_allowed" && $("accounts-box").hidden) return; // not a coordinator
    say(frame.message || ERROR_WORDS[frame.code] || "That didn't go through.", "warn");
  }

  function setBusy(busy) {
    $("accounts-box").setAttribute("aria-busy", busy ? "true" : "false");
  }

  function act(frame) {
    setBusy(true);
    say("");
    send(frame);
  }

  function row(account) {
    var tr = el("tr", { "data-user": account.user });
    var who = el("td");
    who.appendChild(el("span", { dir: "auto" }, account.name || "(no name)"));
    if (account.you) who.appendChild(el("span", { className: "hint" }, " (you)"));
    tr.appendChild(who);
    tr.appendChild(el("td", { dir: "auto" }, account.email));
    var group = (GROUP_NAMES[account.group] || "No group") + (account.coordinator ? ", coordinator" : "");
    tr.appendChild(el("td", { className: "account-group" }, group));
    var status = account.enabled ? STATUS_NAMES[account.status] || account.status : "Disabled";
    tr.appendChild(el("td", { className: "account-status" }, status));
    var actions = el("td", { className: "account-actions" });
    if (!account.you) actions.appendChild(controls(account));
    tr.appendChild(actions);
    return tr;
  }

  function button(label, onClick) {
    var b = el("button", { type: "button", className: "btn btn-secondary" }, label);
    b.addEventListener("click", onClick);
    return b;
  }

  function controls(account) {
    var box = el("div", { className: "account-controls" });
    var label = "Group of " + (account.name || account.email);
    var select = el("select", { "aria-label": label, className: "account-group-select" });
    ["volunteers", "supervisors", "trainees"].forEach(function (g) {
      var option = el("option", { value: g }, GROUP_NAMES[g]);
      if (g === account.group) option.selected = true;
      select.appendChild(option);
    });
    var coordinator = el("input", { type: "checkbox", className: "account-coordinator" });
    coordinator.checked = !!account.coordinator;
    var coordinatorLabel = el("label", {}, " coordinator");
    coordinatorLabel.prepend(coordinator);
    function coordinatorAllowed() {
      coordinator.disabled = select.value !== "supervisors";
      if (coordinator.disabled) coordinator.checked = false;
    }
    select.addEventListener("change", coordinatorAllowed);
    coordinatorAllowed();
    box.appendChild(select);
    box.appendChild(coordinatorLabel);
    box.appendChild(
      button("Save group", function () {
        act({ op: "set_group", user: account.user, group: select.value, coordinator: coordinator.checked });
      })
    );
    if (account.enabled) {
      box.appendChild(
        button("Sign out everywhere", function () {
          act({ op: "sign_out", user: account.user });
        })
      );
      box.appendChild(
        button("Disable", function () {
          act({ op: "disable", user: account.user });
        })
      );
    } else {
      box.appendChild(
        button("Enable", function () {
          act({ op: "enable", user: account.user });
        })
      );
      var remove = button("Remove", function () {
        if (armed !== remove) {
          armed = remove;
          remove.textContent = "Remove " + (account.name || account.email) + " for good?";
          return;
        }
        act({ op: "remove", user: account.user });
      });
      box.appendChild(remove);
    }
    return box;
  }

  function onInvite(event) {
    event.preventDefault();
    var email = $("invite-email").value.trim();
    var name = $("invite-name").value.trim();
    if (!email || !name) {
      say("Please give their e-mail address and the name colleagues know them by.", "warn");
      return;
    }
    act({ op: "invite", email: email, name: name, group: $("invite-group").value });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("invite-form");
    if (form) form.addEventListener("submit", onInvite);
  });

  K.accounts = { opened: opened, render: render, onError: onError, reset: reset };
})();
