/* Kindred: staff accounts in the console, for coordinators (issue 13).
 *
 * A coordinator is a supervisor also in the Cognito group `coordinators`. When the console's
 * connection opens and the ID token says so, this asks the server for the list (`accounts`,
 * op `list`); the section is shown only once the server has answered with an `accounts`
 * frame (docs/protocol.md, "Accounts"): the server is the judge, the token only a hint. Every
 * change answers the new list. Names and addresses are set as text, never as HTML. The words
 * come from the catalogue (web/i18n/, "console.accounts.*"), set with Kindred.i18n.text and
 * attr, so that a switch of language redraws them.
 */
(function () {
  "use strict";

  var K = window.Kindred;
  var el = K.el;
  var setText = K.i18n.text;
  var client = null;
  var armed = null; // the Remove button waiting for its confirmation

  var GROUP_WORDS = {
    volunteers: "console.accounts.group.volunteers",
    supervisors: "console.accounts.group.supervisors",
    trainees: "console.accounts.group.trainees",
  };
  var STATUS_WORDS = {
    FORCE_CHANGE_PASSWORD: "console.accounts.status.invited",
    CONFIRMED: "console.accounts.status.active",
    RESET_REQUIRED: "console.accounts.status.reset",
  };
  var DONE_WORDS = {
    invite: "console.accounts.done.invite",
    set_group: "console.accounts.done.set_group",
    disable: "console.accounts.done.disable",
    enable: "console.accounts.done.enable",
    remove: "console.accounts.done.remove",
    sign_out: "console.accounts.done.sign_out",
  };
  var ERROR_WORDS = {
    not_allowed: "console.error.not_allowed",
    invalid_request: "console.error.invalid_request",
    rate_limited: "console.accounts.error.rate_limited",
    session_expired: "console.expired",
    internal: "console.error.internal",
  };

  function $(id) {
    return document.getElementById(id);
  }

  /** The section's message: a catalogue key (redrawn on a switch), or none to hide it. */
  function say(key, kind) {
    var box = $("accounts-message");
    box.className = "notice notice-" + (kind || "ok");
    setText(box, key || null);
    K.show(box, !!key);
  }

  /** The server's own words for an error (as the rest of the console shows them). */
  function sayServer(words) {
    var box = $("accounts-message");
    box.className = "notice notice-warn";
    setText(box, null);
    box.textContent = words;
    K.show(box, true);
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
    say(null);
  }

  function render(frame) {
    K.show($("accounts-box"), true);
    armed = null;
    var rows = (frame.accounts || []).map(row);
    var body = $("accounts-table").querySelector("tbody");
    body.replaceChildren.apply(body, rows);
    if (frame.op && frame.op !== "list") {
      say(DONE_WORDS[frame.op] || "console.accounts.done.other", "ok");
      if (frame.op === "invite") $("invite-form").reset();
    }
    setBusy(false);
  }

  function onError(frame) {
    setBusy(false);
    if (frame.code === "not_allowed" && $("accounts-box").hidden) return; // not a coordinator
    if (frame.message) sayServer(frame.message);
    else say(ERROR_WORDS[frame.code] || "console.error.failed", "warn");
  }

  function setBusy(busy) {
    $("accounts-box").setAttribute("aria-busy", busy ? "true" : "false");
  }

  function act(frame) {
    setBusy(true);
    say(null);
    send(frame);
  }

  function groupKey(group) {
    return GROUP_WORDS[group] || "console.accounts.group.none";
  }

  function row(account) {
    var tr = el("tr", { "data-user": account.user });
    var who = el("td");
    if (account.name) who.appendChild(el("span", { dir: "auto" }, account.name));
    else who.appendChild(K.i18n.tel("span", {}, "console.accounts.no_name"));
    if (account.you) {
      who.appendChild(document.createTextNode(" "));
      who.appendChild(K.i18n.tel("span", { className: "hint" }, "console.accounts.you"));
    }
    tr.appendChild(who);
    tr.appendChild(el("td", { dir: "auto" }, account.email));
    var group = el("td", { className: "account-group" });
    if (account.coordinator) {
      setText(group, "console.accounts.group_coordinator", { group: { key: groupKey(account.group) } });
    } else {
      setText(group, groupKey(account.group));
    }
    tr.appendChild(group);
    var status = el("td", { className: "account-status" });
    var statusKey = account.enabled ? STATUS_WORDS[account.status] : "console.accounts.status.disabled";
    if (statusKey) setText(status, statusKey);
    else status.textContent = account.status; // a state Cognito added later: its own name
    tr.appendChild(status);
    var actions = el("td", { className: "account-actions" });
    if (!account.you) actions.appendChild(controls(account));
    tr.appendChild(actions);
    return tr;
  }

  function button(key, onClick) {
    var b = K.i18n.tel("button", { type: "button", className: "btn btn-secondary" }, key);
    b.addEventListener("click", onClick);
    return b;
  }

  /** A row's controls in two lines that wrap on their own: the group (select, coordinator,
   * save), then what changes the account (sign out, disable or enable, remove). */
  function controls(account) {
    var who = account.name || account.email;
    var groupLine = el("div", { className: "account-controls-line" });
    var select = el("select", { className: "account-group-select" });
    K.i18n.attr(select, "aria-label", "console.accounts.group_of", { name: who });
    Object.keys(GROUP_WORDS).forEach(function (g) {
      var option = K.i18n.tel("option", { value: g }, GROUP_WORDS[g]);
      if (g === account.group) option.selected = true;
      select.appendChild(option);
    });
    var coordinator = el("input", { type: "checkbox", className: "account-coordinator" });
    coordinator.checked = !!account.coordinator;
    var coordinatorLabel = el("label", { className: "account-coordinator-label" });
    coordinatorLabel.appendChild(coordinator);
    coordinatorLabel.appendChild(K.i18n.tel("span", {}, "console.accounts.coordinator"));
    function coordinatorAllowed() {
      coordinator.disabled = select.value !== "supervisors";
      if (coordinator.disabled) coordinator.checked = false;
    }
    select.addEventListener("change", coordinatorAllowed);
    coordinatorAllowed();
    groupLine.appendChild(select);
    groupLine.appendChild(coordinatorLabel);
    groupLine.appendChild(
      button("console.accounts.save_group", function () {
        act({ op: "set_group", user: account.user, group: select.value, coordinator: coordinator.checked });
      })
    );
    var accountLine = el("div", { className: "account-controls-line" });
    if (account.enabled) {
      accountLine.appendChild(
        button("console.accounts.sign_out", function () {
          act({ op: "sign_out", user: account.user });
        })
      );
      accountLine.appendChild(
        button("console.accounts.disable", function () {
          act({ op: "disable", user: account.user });
        })
      );
    } else {
      accountLine.appendChild(
        button("console.accounts.enable", function () {
          act({ op: "enable", user: account.user });
        })
      );
      var remove = button("console.accounts.remove", function () {
        if (armed !== remove) {
          armed = remove;
          setText(remove, "console.accounts.remove_confirm", { name: who });
          return;
        }
        act({ op: "remove", user: account.user });
      });
      accountLine.appendChild(remove);
    }
    var box = el("div", { className: "account-controls" });
    box.appendChild(groupLine);
    box.appendChild(accountLine);
    return box;
  }

  function onInvite(event) {
    event.preventDefault();
    var email = $("invite-email").value.trim();
    var name = $("invite-name").value.trim();
    if (!email || !name) {
      say("console.accounts.invite_missing", "warn");
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
