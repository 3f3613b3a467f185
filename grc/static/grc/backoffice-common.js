/*
 * What the two editors of the backoffice share: the form builder (builder.js) and the workflow
 * editor (workflow-editor.js). A plain script, without build step nor dependency, loaded before
 * each of them: it only defines window.GrcBackoffice and does nothing on the page by itself.
 *
 * Both editors work the same way: a JSON document lives in memory, forms are rendered from it
 * after each change, the draft is saved by "Enregistrer", Ctrl+S or the autosave, then published.
 * Hence the parts below: helpers on values; building elements and labelled inputs (toolkit(),
 * one per editor, since the ids it makes carry the editor's prefix); announcements and the
 * problems list; the draft session (dirty tracking, saving, publishing); and the model of the
 * conditions' simple editor (the form's display conditions, the transitions' guards).
 */
(function () {
  "use strict";

  // --- Values ------------------------------------------------------------------------------------

  const KEY_PATTERN = /^[a-z][a-z0-9_]{0,49}$/;

  const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

  // An empty value is left out of the JSON rather than kept as an empty property.
  function setOptional(object, name, value) {
    if (value === "" || value === null || value === undefined) delete object[name];
    else object[name] = value;
  }

  function shorten(text, length) {
    text = String(text || "")
      .replace(/\s+/g, " ")
      .trim();
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  }

  // A key made from a label: lowercase letters without accents, digits and "_", beginning with a
  // letter (else with `fallback`), 40 characters at most.
  function slugify(text, fallback) {
    let slug = String(text || "")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "");
    if (!/^[a-z]/.test(slug)) slug = fallback + (slug ? "_" + slug : "");
    return slug.slice(0, 40).replace(/_+$/, "");
  }

  // `base`, else the first of base_2, base_3… that the Set `used` does not hold.
  function uniqueKey(base, used) {
    if (!used.has(base)) return base;
    let n = 2;
    while (used.has(base + "_" + n)) n += 1;
    return base + "_" + n;
  }

  // Why `key` cannot name an item ("" when it can): its form first, then whether `used` holds it.
  function keyProblem(key, used, takenMessage) {
    if (!KEY_PATTERN.test(key || "")) {
      return "Identifiant invalide : lettres minuscules sans accent, chiffres et _, en commençant par une lettre.";
    }
    return used.has(key) ? takenMessage : "";
  }

  // A number input's text: a whole number when it is one, else the text as typed, kept so that
  // the server's problems name it instead of the value vanishing.
  const wholeNumberOr = (raw) => (/^\d+$/.test(raw.trim()) ? parseInt(raw, 10) : raw);

  const plural = (n, one, many) => n + " " + (n > 1 ? many : one);

  // Moves list[index] by `delta` places. Returns its new index, or -1 (and moves nothing) when
  // that would leave the list.
  function moveInList(list, index, delta) {
    const target = index + delta;
    if (target < 0 || target >= list.length) return -1;
    const [item] = list.splice(index, 1);
    list.splice(target, 0, item);
    return target;
  }

  // For an editor whose every edit ends in changed(changes): setTo(object, name, changes) is the
  // handler of an input that only writes its value into object[name].
  const setterFor = (changed) => (object, name, changes) => (value) => {
    object[name] = value;
    changed(changes);
  };

  // The focus key of the "Monter"/"Descendre" button just used: the focus stays on it.
  const moveFocusKey = (base, delta) => base + (delta < 0 ? ":up" : ":down");

  const clock = () =>
    new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });

  // --- Elements ----------------------------------------------------------------------------------

  // h("p", {className: "help", onclick: f}, "text", child…): attributes set to null, undefined or
  // false are left out, true gives an empty attribute; children may be nested arrays.
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on") && typeof value === "function") {
        node.addEventListener(name.slice(2), value);
      } else if (name === "className") {
        node.className = value;
      } else if (value === true) {
        node.setAttribute(name, "");
      } else {
        node.setAttribute(name, String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function describedBy(...ids) {
    const found = ids.filter(Boolean);
    return found.length ? found.join(" ") : null;
  }

  // A small action button. `label`, its accessible name, says what it acts on ("Monter le champ
  // « Nom »") when the visible text alone would be ambiguous; null when the text says it all.
  function smallButton(text, label, focus, onClick, disabled) {
    return h(
      "button",
      {
        type: "button",
        className: "small-button",
        "aria-label": label && label !== text ? label : null,
        "data-focus": focus,
        disabled: Boolean(disabled),
        onclick: onClick,
      },
      text,
    );
  }

  // "Monter" and "Descendre" for the item at `index` of `count`, named "Monter " + what; their
  // focus keys are focusBase:up and focusBase:down; move(delta) is -1 or 1.
  function moveButtons(what, focusBase, index, count, move) {
    return [
      smallButton("Monter", "Monter " + what, focusBase + ":up", () => move(-1), index === 0),
      smallButton(
        "Descendre",
        "Descendre " + what,
        focusBase + ":down",
        () => move(1),
        index === count - 1,
      ),
    ];
  }

  // Every control carries a data-focus key (stable across renderings), so that the focus can be
  // put back on "the same" control once the forms are built again.
  function focusKeyOf(node) {
    const holder = node && node.closest ? node.closest("[data-focus]") : null;
    return holder ? holder.getAttribute("data-focus") : null;
  }

  /*
   * The helpers of one editor that make ids or move the focus:
   *   idPrefix: the ids made for labels ("bld" gives bld-in-1, bld-sel-2…);
   *   uidPrefix: the names given to the document's objects (u1, u2…), for data-focus keys;
   *   focusFallbacks: the suffixes tried, on the same item, when the control to focus again is
   *     disabled and so is its pair ("Monter" at the top: "Descendre", then these).
   */
  function toolkit({ idPrefix, uidPrefix, focusFallbacks }) {
    let idCounter = 0;
    const newId = (kind) => idPrefix + "-" + kind + "-" + ++idCounter;

    const uids = new WeakMap();
    let uidCounter = 0;
    function uid(object) {
      if (!uids.has(object)) uids.set(object, uidPrefix + ++uidCounter);
      return uids.get(object);
    }

    function focusByKey(container, key) {
      const find = (k) => container.querySelector('[data-focus="' + CSS.escape(k) + '"]');
      let node = find(key);
      if (node && node.disabled) {
        const base = key.slice(0, key.lastIndexOf(":"));
        node = find(base + (key.endsWith(":up") ? ":down" : ":up"));
        if (!node || node.disabled) {
          node = focusFallbacks.map((suffix) => find(base + suffix)).find(Boolean) || null;
        }
      }
      if (node) node.focus();
      return Boolean(node);
    }

    // Renders `container` again (render() replaces its children), the focus going back to the
    // control of `wanted` when given (after an addition, a move…), else to the one it was on.
    function renderKeepingFocus(container, wanted, render) {
      const key =
        wanted ||
        (container.contains(document.activeElement) ? focusKeyOf(document.activeElement) : null);
      render();
      if (key) focusByKey(container, key);
    }

    // An input in its wrapper: label, help (that the input names in aria-describedby), the input,
    // then its warning if any. The wrapper's .input is the input.
    function labelled(options, id, helpId, input, warning) {
      const wrapper = h(
        "div",
        { className: "form-field" + (options.className ? " " + options.className : "") },
        h("label", { for: id }, options.label),
        helpId ? h("p", { className: "help", id: helpId }, options.help) : null,
        input,
        warning,
      );
      wrapper.input = input;
      return wrapper;
    }

    /*
     * A text input (or a textarea: multiline, rows) with its label. Options: label, value,
     * focus, help, type, attrs, className (of the wrapper), describedBy (another id), warning (a
     * text, even "": a warning paragraph under the input, which it describes), and
     * onInput / onChange(value, input, warning).
     */
    function textInput(options) {
      const id = newId("in");
      const helpId = options.help ? id + "-help" : null;
      const warningId = options.warning !== undefined ? id + "-warning" : null;
      const attrs = Object.assign(
        {
          id,
          "data-focus": options.focus,
          "aria-describedby": describedBy(helpId, warningId, options.describedBy),
          "aria-invalid": options.warning ? "true" : null,
        },
        options.attrs || {},
      );
      const input = options.multiline
        ? h("textarea", Object.assign({ rows: options.rows || 3 }, attrs))
        : h("input", Object.assign({ type: options.type || "text" }, attrs));
      input.value =
        options.value === undefined || options.value === null ? "" : String(options.value);
      const warning = warningId
        ? h("p", { className: "field-warning", id: warningId }, options.warning || "")
        : null;
      if (options.onInput)
        input.addEventListener("input", () => options.onInput(input.value, input, warning));
      if (options.onChange)
        input.addEventListener("change", () => options.onChange(input.value, input, warning));
      return labelled(options, id, helpId, input, warning);
    }

    // A checkbox with its label. Options: label, checked, focus, help, onChange(checked).
    function checkboxInput(options) {
      const id = newId("cb");
      const helpId = options.help ? id + "-help" : null;
      const input = h("input", {
        type: "checkbox",
        id,
        checked: Boolean(options.checked),
        "data-focus": options.focus,
        "aria-describedby": helpId,
        onchange: () => options.onChange(input.checked),
      });
      return h(
        "div",
        { className: "form-field form-field--checkbox" },
        input,
        " ",
        h("label", { for: id }, options.label),
        helpId ? h("p", { className: "help", id: helpId }, options.help) : null,
      );
    }

    /*
     * A select with its label. Options: label, value, choices ([value, label] pairs), focus,
     * help, className, onChange(value), and keepUnknown: a value that is none of the choices (a
     * document written as JSON) is then offered first, marked unknown, instead of the select
     * showing another one as if it were chosen.
     */
    function selectInput(options) {
      const id = newId("sel");
      const helpId = options.help ? id + "-help" : null;
      const current =
        options.value === undefined || options.value === null ? "" : String(options.value);
      const choices = options.choices.slice();
      if (options.keepUnknown && !choices.some(([value]) => value === current)) {
        choices.unshift([current, current ? "« " + current + " » (inconnu)" : "— Choisissez —"]);
      }
      const input = h(
        "select",
        { id, "data-focus": options.focus, "aria-describedby": helpId },
        choices.map(([value, label]) => h("option", { value }, label)),
      );
      input.value = current;
      input.addEventListener("change", () => options.onChange(input.value));
      return labelled(options, id, helpId, input, null);
    }

    // With several comparisons: whether all of them must hold, or any.
    function conditionJoin(simple, label, focus, update) {
      return selectInput({
        label,
        value: simple.join,
        focus: focus + ":join",
        choices: JOIN_CHOICES,
        onChange: (value) => {
          simple.join = value;
          update(false);
        },
      });
    }

    /*
     * One comparison of a simple condition, in its fieldset: the "Champ" and "Comparaison"
     * selects, then the editor's own control for the value and button to remove it. Options:
     * index, leaf (the comparison), spec (its field's), focus (the row's focus key), fields (the
     * choices of fields), operators, specOf(key), typedValue(spec, op, raw), update(rerender),
     * value() (makes the value's control, after the selects: the ids follow the page's order)
     * and remove (the button).
     */
    function conditionRow(o) {
      const leaf = o.leaf;
      return h(
        "fieldset",
        { className: "condition-row" },
        h("legend", {}, "Condition " + (o.index + 1)),
        selectInput({
          label: "Champ",
          value: leaf.field,
          focus: o.focus + ":field",
          choices: o.fields,
          keepUnknown: true,
          onChange: (key) => {
            setField(leaf, key, o.specOf(key));
            o.update(true);
          },
        }),
        selectInput({
          label: "Comparaison",
          value: leaf.op,
          focus: o.focus + ":op",
          choices: Object.entries(o.operators),
          keepUnknown: true,
          onChange: (op) => {
            setOperator(leaf, op, o.spec, o.typedValue);
            o.update(true);
          },
        }),
        o.value(),
        o.remove,
      );
    }

    // The values of an "in" comparison, typed as a list separated by commas. Options: leaf,
    // spec, focus (the row's), typedValue, update, help.
    function conditionValuesInput(o) {
      const values = Array.isArray(o.leaf.values) ? o.leaf.values : [];
      return textInput({
        label: "Valeurs (séparées par des virgules)",
        help: o.help,
        value: values.join(", "),
        focus: o.focus + ":values",
        onInput: (raw) => {
          o.leaf.values = raw
            .split(",")
            .map((v) => v.trim())
            .filter((v) => v !== "")
            .map((v) => o.typedValue(o.spec, "in", v));
          o.update(false);
        },
      });
    }

    // The value of a comparison as typed (in a date input for a date). Options: leaf, spec,
    // focus (the row's), typedValue, update, attrs.
    function conditionValueInput(o) {
      return textInput({
        label: "Valeur",
        value: o.leaf.value,
        type: o.spec && o.spec.type === "date" ? "date" : "text",
        focus: o.focus + ":value",
        attrs: o.attrs,
        onInput: (raw) => {
          o.leaf.value = o.typedValue(o.spec, o.leaf.op, raw);
          o.update(false);
        },
      });
    }

    /*
     * A condition as JSON, in a <details>: for experts, and for what the simple editor cannot
     * show. Options: idKind (for its id), rows, focus (prefix of its focus keys), label, open,
     * onApply(condition): "Appliquer le JSON" with an object, or null for an empty text.
     * Returns {node, show(text)}.
     */
    function conditionJson(options) {
      const id = newId(options.idKind);
      const error = h("p", { className: "field-warning", id: id + "-error", role: "alert" });
      const textarea = h("textarea", {
        id,
        rows: options.rows,
        className: "code",
        spellcheck: "false",
        "data-focus": options.focus + ":json",
        "aria-describedby": id + "-error",
      });
      const apply = () => {
        const parsed = parseCondition(textarea.value);
        error.textContent = parsed.error || "";
        if (!parsed.error) options.onApply(parsed.condition);
      };
      const node = h(
        "details",
        { className: "condition-json", open: options.open },
        h("summary", {}, "Condition en JSON (avancé)"),
        h("label", { for: id }, options.label),
        textarea,
        error,
        smallButton("Appliquer le JSON", null, options.focus + ":apply", apply),
      );
      return { node, show: (text) => (textarea.value = text) };
    }

    return {
      newId,
      uid,
      focusByKey,
      renderKeepingFocus,
      textInput,
      checkboxInput,
      selectInput,
      conditionJoin,
      conditionRow,
      conditionValuesInput,
      conditionValueInput,
      conditionJson,
    };
  }

  // --- Announcements and problems ----------------------------------------------------------------

  // The function that writes in a status region (aria-live): emptied first, the new text after
  // a tick, so that screen readers announce even a message repeated.
  function announcer(node) {
    let timer = null;
    return function announce(message) {
      clearTimeout(timer);
      node.textContent = "";
      timer = setTimeout(() => {
        node.textContent = message;
      }, 50);
    };
  }

  // "À corriger avant de publier (2 points)".
  const countedTitle = (title, problems) =>
    title + " (" + plural(problems.length, "point", "points") + ")";

  // The problems section under the toolbar: its heading, its own list, and whether it shows
  // "nothing to correct" (`none`).
  function showProblemList(section, problems, heading, none) {
    section.classList.toggle("problems--none", none);
    section.querySelector("h2").textContent = heading;
    section.querySelector(":scope > ul").replaceChildren(...problems.map((p) => h("li", {}, p)));
  }

  // --- The draft: dirty tracking, saving, publishing ---------------------------------------------

  function postJson(url, body, accept) {
    const csrf = document.querySelector("meta[name=csrf-token]");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: accept || "application/json",
        "X-CSRFToken": csrf ? csrf.content : "",
      },
      body: JSON.stringify(body),
    });
  }

  // The answer's JSON; {} when it has none (an error page, a cut connection).
  async function readJson(response) {
    try {
      return await response.json();
    } catch (error) {
      return {};
    }
  }

  /*
   * The document being edited, as a draft: a revision count against the saved one (the
   * "Modifications non enregistrées" note, the question before leaving the page), saving by
   * "Enregistrer", Ctrl+S or the autosave (one save at a time, in order), publishing (which saves
   * first), and the JSON form kept in step with the edits.
   *
   * The page's controls are found by their ids, #<prefix>-publish, #<prefix>-autosave,
   * #<prefix>-raw and #<prefix>-raw-form (the JSON form that works without JavaScript), and the
   * [data-action=save] button in `root`. Options, besides prefix and root:
   *   field: the key of the document in the save endpoint's JSON; value(): the document;
   *   urls: {save, publish}; announce: the editor's announce();
   *   texts: {notSaved, publishQuestion, publishCancelled, published};
   *   onSaved(data), onSaveRefused(problems), onPublished(), onPublishRefused(problems): what the
   *     editor shows of the server's answers (its problems list, its own announcement of a save).
   * Nothing is wired before start(): an editor that cannot open its document leaves the page as
   * it is without JavaScript.
   */
  function draftSession(options) {
    const saveButton = options.root.querySelector("[data-action=save]");
    const publishForm = document.getElementById(options.prefix + "-publish");
    const autosave = document.getElementById(options.prefix + "-autosave");
    const rawDetails = document.getElementById(options.prefix + "-raw");
    const rawForm = document.getElementById(options.prefix + "-raw-form");
    const rawTextarea = rawForm ? rawForm.querySelector("textarea") : null;
    const announce = options.announce;
    const texts = options.texts;
    const state = { revision: 0, savedRevision: 0, leaving: false };

    const dirtyNote = h(
      "span",
      { className: "dirty-note", hidden: true },
      "Modifications non enregistrées",
    );
    function showDirty() {
      dirtyNote.hidden = state.revision === state.savedRevision;
    }

    // The JSON form follows the edits, except while it is being typed in.
    function syncRaw() {
      if (rawTextarea && document.activeElement !== rawTextarea) {
        rawTextarea.value = JSON.stringify(options.value(), null, 2);
      }
    }

    async function doSave() {
      if (state.revision === state.savedRevision) return { saved: true, unchanged: true };
      // Edits made while the request is on its way stay to be saved.
      const revision = state.revision;
      try {
        const response = await postJson(options.urls.save, { [options.field]: options.value() });
        const data = await readJson(response);
        if (response.ok && data.saved) {
          state.savedRevision = Math.max(state.savedRevision, revision);
          showDirty();
          options.onSaved(data);
          return data;
        }
        options.onSaveRefused(data.problems || []);
        announce(
          texts.notSaved +
            (response.status === 404 ? " (page introuvable : reconnectez-vous)." : "."),
        );
        return { saved: false };
      } catch (error) {
        announce(
          "Enregistrement impossible : le serveur ne répond pas. Vos modifications restent dans cette page ; réessayez.",
        );
        return { saved: false };
      }
    }

    // One save at a time: each waits for the one before, whatever its outcome.
    let saveChain = Promise.resolve();
    function save() {
      saveChain = saveChain.then(doSave, doSave);
      return saveChain;
    }

    let autosaveTimer = null;
    function cancelAutosave() {
      clearTimeout(autosaveTimer);
    }
    function scheduleAutosave() {
      cancelAutosave();
      if (autosave && autosave.checked) autosaveTimer = setTimeout(save, 1500);
    }

    async function publish(event) {
      event.preventDefault();
      if (!window.confirm(texts.publishQuestion)) return;
      cancelAutosave();
      const saved = await save();
      if (!saved || saved.saved === false) {
        announce(texts.publishCancelled);
        return;
      }
      try {
        const response = await postJson(options.urls.publish, {});
        const data = await readJson(response);
        if (response.ok && data.published) {
          options.onPublished();
          announce(data.message || texts.published);
          const badge = document.querySelector(".demarche-head .state");
          if (badge) {
            badge.textContent = "Publiée";
            badge.className = "state state--published";
          }
        } else {
          const problems = data.problems || [];
          options.onPublishRefused(problems);
          announce(
            "Publication refusée : " +
              plural(problems.length, "point", "points") +
              " à corriger, listés sous la barre d'outils.",
          );
        }
      } catch (error) {
        announce("Publication impossible : le serveur ne répond pas.");
      }
    }

    // After every edit, once the editor has rendered it (rendering may complete the document).
    function changed() {
      state.revision += 1;
      syncRaw();
      showDirty();
      scheduleAutosave();
    }

    function start() {
      if (rawDetails && !rawDetails.querySelector(".error-summary")) rawDetails.open = false;
      saveButton.hidden = false;
      saveButton.after(dirtyNote);
      saveButton.addEventListener("click", () => {
        cancelAutosave();
        if (state.revision === state.savedRevision) state.savedRevision = -1; // always saves
        save();
      });
      if (autosave) {
        autosave.closest(".autosave").hidden = false;
        autosave.addEventListener("change", () => {
          announce(
            autosave.checked
              ? "Enregistrement automatique activé."
              : "Enregistrement automatique désactivé.",
          );
          scheduleAutosave();
        });
      }
      document.addEventListener("keydown", (event) => {
        if ((event.ctrlKey || event.metaKey) && event.key === "s") {
          event.preventDefault();
          cancelAutosave();
          save();
        }
      });
      if (publishForm) publishForm.addEventListener("submit", publish);
      if (rawForm) rawForm.addEventListener("submit", leave);
      window.addEventListener("beforeunload", (event) => {
        if (!state.leaving && state.revision !== state.savedRevision) {
          event.preventDefault();
          event.returnValue = "";
        }
      });
    }

    // The page is left on purpose (a form of the page is sent): no question before unloading.
    function leave() {
      state.leaving = true;
    }

    return { start, changed, save, cancelAutosave, leave };
  }

  // --- Conditions: the simple editor's model -----------------------------------------------------
  // The editors show "all / any of these comparisons" (docs/form-definition.md); any other
  // condition is edited as JSON.

  const ORDER_OPS = ["lt", "lte", "gt", "gte"];

  const JOIN_CHOICES = [
    ["and", "toutes les conditions ci-dessous sont remplies (et)"],
    ["or", "au moins une condition ci-dessous est remplie (ou)"],
  ];

  const ADVANCED_CONDITION =
    "Cette condition est avancée (imbriquée ou avec « not ») : modifiez-la en JSON ci-dessous.";

  function isLeaf(condition, operators) {
    return (
      isObject(condition) &&
      Object.prototype.hasOwnProperty.call(operators, condition.op) &&
      typeof condition.field === "string"
    );
  }

  // {join: "and" | "or", rows: [comparisons]}, or null when the condition is not that simple.
  function toSimple(condition, operators) {
    if (condition === null || condition === undefined) return { join: "and", rows: [] };
    if (isLeaf(condition, operators)) return { join: "and", rows: [condition] };
    if (
      isObject(condition) &&
      (condition.op === "and" || condition.op === "or") &&
      Array.isArray(condition.conditions) &&
      condition.conditions.length > 1 &&
      condition.conditions.every((c) => isLeaf(c, operators))
    ) {
      return { join: condition.op, rows: condition.conditions };
    }
    return null;
  }

  function fromSimple(simple) {
    if (!simple.rows.length) return null;
    if (simple.rows.length === 1) return simple.rows[0];
    return { op: simple.join, conditions: simple.rows };
  }

  // The value a new comparison starts with: yes, the first option, or nothing.
  function defaultValue(spec) {
    if (!spec) return "";
    if (spec.type === "yesno" || spec.type === "checkbox") return true;
    if (Array.isArray(spec.options) && spec.options.length) return spec.options[0].value;
    return "";
  }

  // Another field: the value starts again from that field's default.
  function setField(leaf, key, spec) {
    leaf.field = key;
    if (leaf.op === "in") leaf.values = [];
    else if (leaf.op !== "is_empty") leaf.value = defaultValue(spec);
  }

  // Another comparison: the value (or the list of values, for "in") is kept as far as it still
  // makes sense, typed for the new comparison by the editor's typedValue(spec, op, raw).
  function setOperator(leaf, op, spec, typedValue) {
    const previous = leaf.op;
    leaf.op = op;
    if (op === "is_empty") {
      delete leaf.value;
      delete leaf.values;
    } else if (op === "in") {
      leaf.values =
        previous !== "is_empty" &&
        previous !== "in" &&
        leaf.value !== undefined &&
        leaf.value !== ""
          ? [leaf.value]
          : [];
      delete leaf.value;
    } else {
      if (!("value" in leaf))
        leaf.value =
          Array.isArray(leaf.values) && leaf.values.length ? leaf.values[0] : defaultValue(spec);
      delete leaf.values;
      leaf.value = typedValue(spec, op, leaf.value);
    }
  }

  // The text of a condition's JSON box: {condition} (null when empty) or {error}.
  function parseCondition(text) {
    const trimmed = text.trim();
    if (!trimmed) return { condition: null };
    let parsed;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      return { error: "JSON invalide : " + error.message };
    }
    if (!isObject(parsed)) {
      return {
        error:
          'Une condition est un objet JSON, par exemple {"op": "equals", "field": "…", "value": "…"}.',
      };
    }
    return { condition: parsed };
  }

  // What the editors use; the rest stays inside.
  window.GrcBackoffice = {
    // values
    isObject,
    setOptional,
    shorten,
    slugify,
    uniqueKey,
    keyProblem,
    wholeNumberOr,
    plural,
    moveInList,
    moveFocusKey,
    setterFor,
    clock,
    // elements (and toolkit(): inputs, focus, the conditions' controls)
    h,
    smallButton,
    moveButtons,
    toolkit,
    // announcements, problems, the draft
    announcer,
    countedTitle,
    showProblemList,
    postJson,
    draftSession,
    // conditions: the simple editor's model
    ORDER_OPS,
    ADVANCED_CONDITION,
    toSimple,
    fromSimple,
    defaultValue,
  };
})();
