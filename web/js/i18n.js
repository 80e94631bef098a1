/* Kindred: the pages' words in the reader's language (issue 13).
 *
 * Every text of the pages comes from a catalogue, web/i18n/<language>.json: flat keys, `{name}`
 * placeholders, and, where a count is shown, an object of plural forms ({"one": ..., "other":
 * ...}, chosen by Intl.PluralRules). English is the fallback for a key a catalogue lacks.
 * Static HTML names its key: data-i18n="key" (the element's text) and
 * data-i18n-attr="placeholder:key; aria-label:key" (attributes); templates too. A text the
 * script sets is set with text(node, key, vars) (an attribute with attr(node, name, key, vars)),
 * which marks the node the same way, so that a switch of language redraws everything on the
 * page at once. A new string: one key in each catalogue and one call, t("key") or
 * text(node, "key").
 * The language: the one the reader chose on this device (localStorage, only once they chose),
 * else the first of the browser's languages with a catalogue, else English.
 */
(function () {
  "use strict";

  var K = window.Kindred;
  /** The languages with a catalogue in web/i18n/ (docs/languages.md: adding one). */
  var LANGUAGES = ["en", "es"];
  var FALLBACK = "en";
  var STORE_KEY = "kindred.language"; // localStorage, only after the reader picked a language

  var catalogues = {}; // language -> its catalogue, once loaded
  var current = FALLBACK;
  var listeners = [];

  function base(tag) {
    return String(tag || "").toLowerCase().split("-")[0];
  }

  /** The stored choice, else the browser's first language with a catalogue, else English. */
  function initialLanguage() {
    try {
      var stored = window.localStorage.getItem(STORE_KEY);
      if (stored && LANGUAGES.indexOf(stored) >= 0) return stored;
    } catch (err) {
      /* storage blocked: the browser's languages decide */
    }
    var wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    for (var i = 0; i < wanted.length; i += 1) {
      if (LANGUAGES.indexOf(base(wanted[i])) >= 0) return base(wanted[i]);
    }
    return FALLBACK;
  }

  function load(language) {
    if (catalogues[language]) return Promise.resolve(catalogues[language]);
    return fetch("i18n/" + language + ".json", { credentials: "omit" })
      .then(function (r) {
        if (!r.ok) throw new Error("i18n/" + language + ".json: HTTP " + r.status);
        return r.json();
      })
      .then(function (catalogue) {
        catalogues[language] = catalogue;
        return catalogue;
      });
  }

  function lookup(key) {
    var own = catalogues[current] || {};
    if (Object.prototype.hasOwnProperty.call(own, key)) return own[key];
    var fallback = catalogues[FALLBACK] || {};
    if (Object.prototype.hasOwnProperty.call(fallback, key)) return fallback[key];
    return null;
  }

  function plural(forms, count) {
    var form = "other";
    try {
      form = new Intl.PluralRules(current).select(Number(count));
    } catch (err) {
      form = Number(count) === 1 ? "one" : "other";
    }
    return forms[form] !== undefined ? forms[form] : forms.other;
  }

  /** The text of `key` in the page's language, with {name} replaced by vars.name (a var that
   * is itself {key, vars} is translated too). The key itself when no catalogue has it. */
  function t(key, vars) {
    var entry = lookup(key);
    if (entry === null) return key;
    if (typeof entry === "object") entry = plural(entry, vars && vars.count);
    return String(entry).replace(/\{(\w+)\}/g, function (whole, name) {
      if (!vars || vars[name] === undefined || vars[name] === null) return whole;
      var value = vars[name];
      if (typeof value === "object" && value.key) return t(value.key, value.vars);
      return String(value);
    });
  }

  /** Sets the node's text to t(key, vars) and remembers it for a switch; no key clears it. */
  function text(node, key, vars) {
    if (!key) {
      delete node.dataset.i18n;
      delete node.dataset.i18nVars;
      node.textContent = "";
      return node;
    }
    node.dataset.i18n = key;
    if (vars) node.dataset.i18nVars = JSON.stringify(vars);
    else delete node.dataset.i18nVars;
    node.textContent = t(key, vars);
    return node;
  }

  /** Sets the node's attribute `name` (aria-label, placeholder, title) to t(key, vars) and
   * marks it as data-i18n-attr does, so that a switch redraws it too. */
  function attr(node, name, key, vars) {
    var pairs = String(node.dataset.i18nAttr || "")
      .split(";")
      .filter(function (pair) {
        return pair.indexOf(":") > 0 && pair.split(":")[0].trim() !== name;
      });
    pairs.push(name + ":" + key);
    node.dataset.i18nAttr = pairs.join("; ");
    if (vars) node.dataset.i18nAttrVars = JSON.stringify(vars);
    else delete node.dataset.i18nAttrVars;
    node.setAttribute(name, t(key, vars));
    return node;
  }

  /** An element (Kindred.el) whose text is t(key, vars), redrawn on a switch. */
  function tel(tag, attrs, key, vars) {
    return text(K.el(tag, attrs), key, vars);
  }

  function varsOf(node, which) {
    var json = node.dataset[which || "i18nVars"];
    try {
      return json ? JSON.parse(json) : undefined;
    } catch (err) {
      return undefined;
    }
  }

  /** Puts every marked text and attribute under `root` (and in its templates) in the language. */
  function apply(root) {
    root.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = t(node.dataset.i18n, varsOf(node));
    });
    root.querySelectorAll("[data-i18n-attr]").forEach(function (node) {
      var vars = varsOf(node, "i18nAttrVars");
      node.dataset.i18nAttr.split(";").forEach(function (pair) {
        var bits = pair.split(":");
        if (bits.length === 2 && bits[0].trim()) node.setAttribute(bits[0].trim(), t(bits[1].trim(), vars));
      });
    });
    root.querySelectorAll("template").forEach(function (template) {
      apply(template.content);
    });
  }

  /** Switches the page to `language` (a catalogue's): <html lang>, every text, the listeners. */
  function use(language, remember) {
    if (LANGUAGES.indexOf(language) < 0) language = FALLBACK;
    return Promise.all([load(FALLBACK), load(language)]).then(function () {
      current = language;
      document.documentElement.lang = language;
      apply(document);
      if (remember) {
        try {
          window.localStorage.setItem(STORE_KEY, language);
        } catch (err) {
          /* storage blocked: the choice lasts while the page is open */
        }
      }
      document.querySelectorAll("select[data-language-switch]").forEach(function (select) {
        select.value = language;
      });
      listeners.forEach(function (listener) {
        listener(language);
      });
      return language;
    });
  }

  /** A language's name in that language ("Español"), for the switch. */
  function ownName(code) {
    try {
      var name = new Intl.DisplayNames([code], { type: "language" }).of(code);
      if (name && name !== code) return name.charAt(0).toUpperCase() + name.slice(1);
    } catch (err) {
      /* old browser: the code */
    }
    return code;
  }

  /** Fills every <select data-language-switch> with the catalogues' languages and wires it. */
  function mountSwitches() {
    document.querySelectorAll("select[data-language-switch]").forEach(function (select) {
      select.replaceChildren();
      LANGUAGES.forEach(function (code) {
        var option = K.el("option", { value: code, lang: code }, ownName(code));
        select.appendChild(option);
      });
      select.value = current;
      select.addEventListener("change", function () {
        use(select.value, true);
      });
    });
  }

  var ready = use(initialLanguage(), false)
    .catch(function () {
      return FALLBACK; // no catalogue: the English the HTML already holds
    })
    .then(function (language) {
      mountSwitches();
      return language;
    });

  K.i18n = {
    LANGUAGES: LANGUAGES,
    ready: ready,
    t: t,
    text: text,
    attr: attr,
    tel: tel,
    apply: apply,
    use: use,
    ownName: ownName,
    language: function () {
      return current;
    },
    has: function (code) {
      return LANGUAGES.indexOf(code) >= 0;
    },
    /** listener(language) after every switch (the page redraws what it drew itself). */
    onChange: function (listener) {
      listeners.push(listener);
    },
  };
  K.t = t;
})();
