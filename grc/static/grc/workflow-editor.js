/*
 * The workflow editor of the backoffice ("Circuit de traitement", grc/backoffice/demarches/
 * workflow.py).
 *
 * Like the form builder (builder.js): no framework, no build step. The workflow
 * (docs/workflows.md) lives in memory as JSON; the statuses, transitions and the implicit
 * decision are edited in forms rendered from it, and the diagram (workflow-diagram.js) is drawn
 * again after every change. "Enregistrer" (or the autosave) posts the workflow to the save
 * endpoint, which keeps it in the draft version and answers with the problems that block
 * publication. The server checks everything again: nothing here is a rule, only help.
 *
 * Accessibility: every action is a real <button> named after what it acts on; items open and
 * close with a button (aria-expanded); reordering is "Monter"/"Descendre"; results are
 * announced in the status region; the diagram has a text description under it.
 *
 * What it shares with the form builder (elements, inputs, saving, publishing, the model of
 * conditions) is in backoffice-common.js, loaded before it.
 */
(function () {
  "use strict";

  const root = document.getElementById("workflow-editor");
  if (!root || !window.GRCWorkflowDiagram) return;
  const Diagram = window.GRCWorkflowDiagram;
  const B = window.GrcBackoffice;
  const { h, isObject, setOptional, shorten, slugify, uniqueKey, smallButton, plural } = B;
  const kit = B.toolkit({ idPrefix: "wf", uidPrefix: "w", focusFallbacks: [":toggle", ":type"] });
  const { uid, newId, renderKeepingFocus, textInput, checkboxInput } = kit;
  // A value that none of the choices is (a workflow written as JSON) stays shown, marked unknown.
  const selectInput = (options) => kit.selectInput(Object.assign({ keepUnknown: true }, options));
  const config = JSON.parse(document.getElementById("workflow-config").textContent);
  const workflow = JSON.parse(document.getElementById("workflow-data").textContent);

  const COLOUR_PATTERN = /^#[0-9a-fA-F]{6}$/;
  const PALETTE = ["#1d4f91", "#6a4c00", "#a3320b", "#18753c", "#ce0500", "#666666", "#6e445a"];
  const TEXT_PROPS = ["subject", "body", "message", "title", "template"];
  const ACTION_DEFAULTS = {
    email: () => ({ to: "citizen", subject: "", body: "" }),
    sms: () => ({ body: "" }),
    message: () => ({ body: "" }),
    note: () => ({ body: "" }),
    assign: () => ({ service: "in_charge" }),
    request_pieces: () => ({ items: [], deadline_days: 15, message: "" }),
    document: () => ({ kind: "decision", title: "", template: "" }),
    set_fields: () => ({ values: {} }),
    webhook: () => ({ url: "https://", secret: "" }),
  };

  const formsNode = document.getElementById("workflow-forms");
  const problemsNode = document.getElementById("workflow-problems");
  const otherProblemsNode = document.getElementById("workflow-other-problems");
  const svg = document.getElementById("workflow-diagram");
  const diagramHolder = document.getElementById("wf-diagram-holder");
  const descriptionList = document.querySelector("#wf-description ul");
  const zoomButton = document.getElementById("wf-zoom");
  const resetForm = document.getElementById("workflow-reset");

  const state = { focusAfter: null };
  const opened = new Set(); // uids of the statuses and transitions shown open
  const autoKeyed = new WeakSet(); // new items whose key still follows their label

  const announce = B.announcer(document.getElementById("workflow-status"));
  const draft = B.draftSession({
    prefix: "workflow",
    root,
    field: "workflow",
    value: () => workflow,
    urls: config.urls,
    announce,
    texts: {
      notSaved: "Le circuit n'a pas pu être enregistré",
      publishQuestion:
        "Publier ce circuit (et le formulaire du brouillon) ? Les nouveaux dossiers le suivront ; les dossiers déjà déposés gardent leur version.",
      publishCancelled: "Publication annulée : le circuit n'a pas pu être enregistré.",
      published: "Démarche publiée.",
    },
    onSaved: showSaved,
    // A refused save leaves the other points (form, settings, texts) as they were shown.
    onSaveRefused: (problems) => showProblems(problems, undefined, "Enregistrement refusé"),
    // The publication's answer lists all the points: the other points' list is emptied.
    onPublished: () => showProblems([], []),
    onPublishRefused: (problems) => showProblems(problems, [], "Publication refusée"),
  });

  // --- Small helpers ---------------------------------------------------------------------------

  // One item of a list in the forms (a timer, a transition's field, an action): a fieldset
  // named by its legend.
  function rowItem(className, legend, ...children) {
    return h("li", { className }, h("fieldset", {}, h("legend", {}, legend), children));
  }

  function list(object, name) {
    if (!Array.isArray(object[name])) object[name] = [];
    return object[name];
  }

  const statuses = () => workflow.statuses;
  const transitions = () => workflow.transitions;
  const statusOf = (key) => statuses().find((s) => s.key === key) || null;
  const statusName = (s) => shorten(s.label || s.key || "?", 60);
  const transitionName = (t) => shorten(t.label || t.key || "?", 60);
  const nameOfKey = (key) => {
    const s = statusOf(key);
    return s ? statusName(s) : "« " + key + " » (inconnu)";
  };

  // `changes` says what to render again (see changed()).
  const setTo = B.setterFor(changed);

  // --- Problems -------------------------------------------------------------------------------

  // `others`: the points outside the circuit (form, settings, texts), shown apart; undefined
  // leaves them as they are.
  function showProblems(problems, others, title) {
    const heading = problems.length
      ? B.countedTitle(title || "À corriger dans le circuit avant de publier", problems)
      : title || "Aucun point à corriger dans le circuit.";
    B.showProblemList(problemsNode, problems, heading, !problems.length && !(others || []).length);
    if (others !== undefined && otherProblemsNode) {
      otherProblemsNode.hidden = !others.length;
      otherProblemsNode.querySelector("ul").replaceChildren(...others.map((p) => h("li", {}, p)));
    }
  }

  // --- Keys and what refers to them -------------------------------------------------------------

  function renameStatus(from, to) {
    let count = 0;
    if (workflow.initial === from) {
      workflow.initial = to;
      count += 1;
    }
    for (const t of transitions()) {
      if (Array.isArray(t.from)) {
        t.from = t.from.map((k) => (k === from ? (count++, to) : k));
      }
      if (t.to === from) {
        t.to = to;
        count += 1;
      }
    }
    return count;
  }

  function renameTransition(from, to) {
    let count = 0;
    for (const s of statuses()) {
      for (const timer of Array.isArray(s.timers) ? s.timers : []) {
        if (isObject(timer) && timer.transition === from) {
          timer.transition = to;
          count += 1;
        }
      }
    }
    if (isObject(workflow.implicit)) {
      for (const name of ["accept", "reject"]) {
        if (workflow.implicit[name] === from) {
          workflow.implicit[name] = to;
          count += 1;
        }
      }
    }
    return count;
  }

  // Keys are unique among the statuses, and among the transitions.
  const keyProblem = (key, others) =>
    B.keyProblem(key, new Set(others.map((item) => item.key)), "Cet identifiant est déjà pris.");

  // The key field: the key changes when the field is left (not at each keystroke, so that the
  // references follow the final key only), and the references follow it.
  function keyInput(item, kind) {
    const others = () => (kind === "status" ? statuses() : transitions()).filter((i) => i !== item);
    return textInput({
      label: "Identifiant",
      value: item.key,
      focus: uid(item) + ":key",
      className: "wf-key",
      attrs: { spellcheck: "false", autocomplete: "off" },
      help:
        kind === "status"
          ? "Nom technique du statut (statistiques, exports) : lettres minuscules sans accent, chiffres et _."
          : "Nom technique de la transition : lettres minuscules sans accent, chiffres et _.",
      warning: "",
      onInput: (value, input, warning) => {
        const problem = value === item.key ? "" : keyProblem(value, others());
        warning.textContent = problem;
        input.setAttribute("aria-invalid", problem ? "true" : "false");
      },
      onChange: (value, input, warning) => {
        if (value === item.key) return;
        const problem = keyProblem(value, others());
        if (problem) {
          warning.textContent = problem + " L'identifiant reste « " + item.key + " ».";
          return;
        }
        const previous = item.key;
        item.key = value;
        autoKeyed.delete(item);
        const count =
          kind === "status" ? renameStatus(previous, value) : renameTransition(previous, value);
        announce(
          "Identifiant « " +
            value +
            " » enregistré" +
            (count
              ? " ; " + plural(count, "référence mise", "références mises") + " à jour."
              : "."),
        );
        changed({ forms: true });
      },
    });
  }

  // --- Statuses ---------------------------------------------------------------------------------

  function itemHead(item, kind, index, count) {
    const open = opened.has(uid(item));
    const bodyId = "wf-body-" + uid(item);
    const noun = kind === "status" ? "le statut" : "la transition";
    const name = kind === "status" ? statusName(item) : transitionName(item);
    const badges = [];
    if (kind === "status") {
      if (item.key === workflow.initial) badges.push(h("span", { className: "badge" }, "initial"));
      if (item.terminal === true) badges.push(h("span", { className: "badge" }, "final"));
    } else {
      const origins = (Array.isArray(item.from) ? item.from : []).map(nameOfKey).join(", ");
      badges.push(
        h(
          "span",
          { className: "meta wf-route", "data-route-for": uid(item) },
          (origins || "?") + " → " + (item.to ? nameOfKey(item.to) : "?"),
        ),
      );
    }
    const moves = B.moveButtons(noun + " « " + name + " »", uid(item), index, count, (delta) =>
      move(kind, item, delta),
    );
    const remove = smallButton(
      "Supprimer",
      "Supprimer " + noun + " « " + name + " »",
      uid(item) + ":remove",
      () => (kind === "status" ? removeStatus(item) : removeTransition(item)),
    );
    return h(
      "div",
      { className: "wf-item-head" },
      kind === "status"
        ? h("span", {
            className: "wf-swatch",
            "aria-hidden": "true",
            "data-swatch-for": uid(item),
            style: "background:" + (COLOUR_PATTERN.test(item.colour || "") ? item.colour : "#eee"),
          })
        : null,
      h(
        "button",
        {
          type: "button",
          className: "wf-toggle",
          "aria-expanded": open ? "true" : "false",
          "aria-controls": open ? bodyId : null,
          "data-focus": uid(item) + ":toggle",
          onclick: () => {
            if (opened.has(uid(item))) opened.delete(uid(item));
            else opened.add(uid(item));
            state.focusAfter = uid(item) + ":toggle";
            renderForms();
          },
        },
        h("span", { className: "wf-caret", "aria-hidden": "true" }, open ? "▾" : "▸"),
        h("span", { className: "wf-item-name", "data-name-for": uid(item) }, name),
        " ",
        h("span", { className: "meta", "data-key-for": uid(item) }, "(" + (item.key || "?") + ")"),
      ),
      kind === "status" ? badges : null,
      h("span", { className: "row-actions" }, moves, remove),
      kind === "status" ? null : badges,
    );
  }

  function statusItem(item, index) {
    const open = opened.has(uid(item));
    const body = open
      ? h("div", { className: "wf-item-body", id: "wf-body-" + uid(item) }, statusFields(item))
      : null;
    return h(
      "li",
      { className: "wf-item wf-item--status", "data-uid": uid(item) },
      itemHead(item, "status", index, statuses().length),
      body,
    );
  }

  function labelInput(item, name, label, help, kind) {
    return textInput({
      label,
      help,
      value: item[name],
      focus: uid(item) + ":" + name,
      onInput: (value) => {
        item[name] = value;
        if (name === "label" && autoKeyed.has(item)) {
          const others = (kind === "status" ? statuses() : transitions()).filter((i) => i !== item);
          const used = new Set(others.map((i) => i.key));
          const key = uniqueKey(slugify(value, kind === "status" ? "statut" : "transition"), used);
          if (key !== item.key) {
            const previous = item.key;
            item.key = key;
            if (kind === "status") renameStatus(previous, key);
            else renameTransition(previous, key);
            const keyField = formsNode.querySelector(
              '[data-focus="' + CSS.escape(uid(item) + ":key") + '"]',
            );
            if (keyField) keyField.value = key;
          }
        }
        changed({ heads: true });
      },
    });
  }

  function statusFields(item) {
    const focus = (name) => uid(item) + ":" + name;
    const colourId = newId("colour");
    const colourPicker = h("input", {
      type: "color",
      id: colourId,
      "data-focus": focus("colour"),
      value: COLOUR_PATTERN.test(item.colour || "") ? item.colour.toLowerCase() : "#666666",
    });
    const hex = textInput({
      label: "Code couleur (#RRVVBB)",
      value: item.colour,
      focus: focus("hex"),
      className: "wf-hex",
      attrs: { spellcheck: "false", autocomplete: "off", maxlength: 7 },
      warning: "",
      onInput: (value, input, warning) => {
        const valid = COLOUR_PATTERN.test(value);
        warning.textContent = valid ? "" : "Format attendu : # suivi de 6 chiffres hexadécimaux.";
        input.setAttribute("aria-invalid", valid ? "false" : "true");
        item.colour = value;
        if (valid) colourPicker.value = value.toLowerCase();
        changed({ heads: true });
      },
    });
    colourPicker.addEventListener("input", () => {
      item.colour = colourPicker.value;
      hex.input.value = colourPicker.value;
      hex.input.setAttribute("aria-invalid", "false");
      hex.querySelector(".field-warning").textContent = "";
      changed({ heads: true });
    });
    const timers = list(item, "timers");
    const leaving = transitions().filter((t) => Array.isArray(t.from) && t.from.includes(item.key));
    return [
      labelInput(item, "label", "Libellé pour les agents", null, "status"),
      labelInput(
        item,
        "citizen_label",
        "Libellé pour l'usager",
        "Ce que l'usager lit dans le suivi de sa demande.",
        "status",
      ),
      keyInput(item, "status"),
      h(
        "div",
        { className: "wf-colour" },
        h(
          "div",
          { className: "form-field" },
          h("label", { for: colourId }, "Couleur du badge"),
          colourPicker,
        ),
        hex,
      ),
      selectInput({
        label: "Catégorie",
        help: "Sert aux files de travail, aux statistiques et à ce que l'usager peut faire.",
        value: item.category,
        focus: focus("category"),
        choices: Object.entries(config.categories),
        onChange: setTo(item, "category"),
      }),
      checkboxInput({
        label: "Visible par l'usager (dans le suivi de sa demande)",
        checked: item.visible === true,
        focus: focus("visible"),
        onChange: setTo(item, "visible"),
      }),
      checkboxInput({
        label: "Statut final (aucune transition n'en part)",
        checked: item.terminal === true,
        focus: focus("terminal"),
        onChange: setTo(item, "terminal", { forms: true }),
      }),
      h(
        "fieldset",
        { className: "wf-timers" },
        h("legend", {}, "Délais automatiques"),
        h(
          "p",
          { className: "help" },
          "Après un temps passé dans ce statut, le système prend une transition qui en part (déclenchée par le système).",
        ),
        timers.length
          ? h(
              "ol",
              { className: "wf-rows" },
              timers.map((timer, i) => timerRow(item, timer, i, leaving)),
            )
          : h("p", { className: "muted" }, "Aucun délai."),
        h(
          "button",
          {
            type: "button",
            className: "small-button",
            "data-focus": focus("timer:add"),
            onclick: () => {
              const system = leaving.find((t) => t.by === "system") || leaving[0];
              timers.push({
                after: 10,
                unit: "working_days",
                transition: system ? system.key : "",
              });
              announce("Délai ajouté au statut « " + statusName(item) + " ».");
              state.focusAfter = uid(timers[timers.length - 1]) + ":after";
              changed({ forms: true });
            },
          },
          "Ajouter un délai",
        ),
      ),
      actionsEditor(item, "status"),
    ];
  }

  function timerRow(status, timer, index, leaving) {
    if (!isObject(timer)) {
      return h("li", {}, "Délai illisible : corrigez-le dans le JSON.");
    }
    const focus = (name) => uid(timer) + ":" + name;
    const choices = leaving.map((t) => [
      t.key,
      transitionName(t) + (t.by === "system" ? "" : " (n'est pas déclenchée par le système)"),
    ]);
    return rowItem(
      "wf-row",
      "Délai " + (index + 1),
      textInput({
        label: "Après",
        type: "number",
        value: timer.after,
        focus: focus("after"),
        attrs: { min: 1, step: 1, inputmode: "numeric" },
        onInput: (value) => {
          timer.after = B.wholeNumberOr(value);
          changed({});
        },
      }),
      selectInput({
        label: "Unité",
        value: timer.unit,
        focus: focus("unit"),
        choices: Object.entries(config.timerUnits),
        onChange: setTo(timer, "unit"),
      }),
      selectInput({
        label: "Transition prise",
        value: timer.transition,
        focus: focus("transition"),
        choices,
        help: leaving.length
          ? null
          : "Aucune transition ne part de ce statut : ajoutez-en une, déclenchée par le système.",
        onChange: setTo(timer, "transition"),
      }),
      smallButton(
        "Retirer",
        "Retirer le délai " + (index + 1) + " du statut « " + statusName(status) + " »",
        focus("remove"),
        () => {
          status.timers.splice(index, 1);
          announce("Délai " + (index + 1) + " retiré.");
          state.focusAfter = uid(status) + ":timer:add";
          changed({ forms: true });
        },
      ),
    );
  }

  function addStatus() {
    const used = new Set(statuses().map((s) => s.key));
    const item = {
      key: uniqueKey("nouveau_statut", used),
      label: "Nouveau statut",
      citizen_label: "Nouveau statut",
      colour: PALETTE[statuses().length % PALETTE.length],
      category: "in_progress",
      visible: true,
      terminal: false,
      actions: [],
      timers: [],
    };
    addItem(
      statuses(),
      item,
      "Statut « Nouveau statut » ajouté en position " +
        (statuses().length + 1) +
        ". Donnez-lui un libellé, puis ajoutez les transitions qui y mènent et qui en partent.",
    );
  }

  // A new status or transition: shown open, its key following its label until one is typed,
  // the focus on its label.
  function addItem(items, item, announcement) {
    autoKeyed.add(item);
    items.push(item);
    opened.add(uid(item));
    announce(announcement);
    state.focusAfter = uid(item) + ":label";
    changed({ forms: true });
  }

  function removeStatus(item) {
    const linked = transitions().filter(
      (t) => t.to === item.key || (Array.isArray(t.from) && t.from.includes(item.key)),
    );
    const question =
      "Supprimer le statut « " +
      statusName(item) +
      " » ?" +
      (linked.length
        ? " " +
          plural(
            linked.length,
            "transition en part ou y mène",
            "transitions en partent ou y mènent",
          ) +
          " : il sera retiré de leurs statuts de départ, et celles qui y mènent seront à corriger."
        : "");
    if (!window.confirm(question)) return;
    const index = statuses().indexOf(item);
    statuses().splice(index, 1);
    for (const t of transitions()) {
      if (Array.isArray(t.from)) t.from = t.from.filter((k) => k !== item.key);
    }
    if (workflow.initial === item.key)
      workflow.initial = statuses().length ? statuses()[0].key : "";
    opened.delete(uid(item));
    announce("Statut « " + statusName(item) + " » supprimé.");
    const next = statuses()[Math.min(index, statuses().length - 1)];
    state.focusAfter = next ? uid(next) + ":toggle" : "status:add";
    changed({ forms: true });
  }

  function move(kind, item, step) {
    const items = kind === "status" ? statuses() : transitions();
    const target = B.moveInList(items, items.indexOf(item), step);
    if (target < 0) return;
    const name = kind === "status" ? statusName(item) : transitionName(item);
    announce("« " + name + " » déplacé en position " + (target + 1) + " sur " + items.length + ".");
    state.focusAfter = B.moveFocusKey(uid(item), step);
    changed({ forms: true });
  }

  // --- Transitions ------------------------------------------------------------------------------

  function transitionItem(item, index) {
    const open = opened.has(uid(item));
    return h(
      "li",
      { className: "wf-item wf-item--transition", "data-uid": uid(item) },
      itemHead(item, "transition", index, transitions().length),
      open
        ? h(
            "div",
            { className: "wf-item-body", id: "wf-body-" + uid(item) },
            transitionFields(item),
          )
        : null,
    );
  }

  function transitionFields(item) {
    const focus = (name) => uid(item) + ":" + name;
    const origins = Array.isArray(item.from) ? item.from : [];
    const statusChoices = statuses().map((s) => [s.key, statusName(s) + " (" + s.key + ")"]);
    return [
      labelInput(
        item,
        "label",
        "Libellé (le bouton que voit la personne qui la déclenche)",
        null,
        "transition",
      ),
      keyInput(item, "transition"),
      h(
        "fieldset",
        { className: "checkboxes wf-origins" },
        h("legend", {}, "Statuts de départ"),
        statuses().map((s) => {
          const id = newId("from");
          return h(
            "div",
            { className: "form-field form-field--checkbox" },
            h("input", {
              type: "checkbox",
              id,
              checked: origins.includes(s.key),
              "data-focus": focus("from:" + uid(s)),
              onchange: (event) => {
                const next = (Array.isArray(item.from) ? item.from : []).filter((k) => k !== s.key);
                if (event.target.checked) next.push(s.key);
                // In the statuses' order, whatever the order of the clicks.
                const order = statuses().map((x) => x.key);
                item.from = next.sort((a, b) => order.indexOf(a) - order.indexOf(b));
                changed({ heads: true });
              },
            }),
            " ",
            h("label", { for: id }, statusName(s)),
          );
        }),
        origins
          .filter((k) => !statusOf(k))
          .map((k) =>
            h("p", { className: "field-warning" }, "Statut de départ inconnu : « " + k + " »."),
          ),
      ),
      selectInput({
        label: "Statut d'arrivée",
        value: item.to,
        focus: focus("to"),
        choices: statusChoices,
        onChange: setTo(item, "to", { heads: true }),
      }),
      selectInput({
        label: "Qui peut la déclencher",
        value: item.by,
        focus: focus("by"),
        choices: Object.entries(config.who),
        onChange: setTo(item, "by", { forms: true }),
      }),
      selectInput({
        label: "Commentaire",
        help: "Un refus doit être motivé : choisissez « Commentaire obligatoire ».",
        value: item.comment === undefined ? "none" : item.comment,
        focus: focus("comment"),
        choices: Object.entries(config.comment),
        onChange: setTo(item, "comment"),
      }),
      transitionFieldsEditor(item),
      guardEditor(item),
      actionsEditor(item, "transition"),
    ];
  }

  function addTransition() {
    const used = new Set(transitions().map((t) => t.key));
    const open = statuses().filter((s) => s.terminal !== true);
    const origin = statusOf(workflow.initial) || open[0] || statuses()[0];
    const target = statuses().find((s) => s !== origin) || origin;
    const item = {
      key: uniqueKey("nouvelle_transition", used),
      label: "Nouvelle transition",
      from: origin ? [origin.key] : [],
      to: target ? target.key : "",
      by: "service",
      comment: "none",
      guard: null,
      fields: [],
      actions: [],
    };
    addItem(
      transitions(),
      item,
      "Transition « Nouvelle transition » ajoutée" +
        (origin ? " de « " + statusName(origin) + " » vers « " + statusName(target) + " »" : "") +
        ". Choisissez son libellé, ses statuts de départ et d'arrivée.",
    );
  }

  function removeTransition(item) {
    const timers = statuses().reduce(
      (n, s) =>
        n +
        (Array.isArray(s.timers)
          ? s.timers.filter((t) => isObject(t) && t.transition === item.key).length
          : 0),
      0,
    );
    const implicit =
      isObject(workflow.implicit) &&
      (workflow.implicit.accept === item.key || workflow.implicit.reject === item.key);
    let question = "Supprimer la transition « " + transitionName(item) + " » ?";
    if (timers)
      question +=
        " " + plural(timers, "délai la déclenche", "délais la déclenchent") + " : retirés aussi.";
    if (implicit)
      question += " C'est la transition de décision implicite : il faudra en choisir une autre.";
    if (!window.confirm(question)) return;
    const index = transitions().indexOf(item);
    transitions().splice(index, 1);
    for (const s of statuses()) {
      if (Array.isArray(s.timers)) {
        s.timers = s.timers.filter((t) => !(isObject(t) && t.transition === item.key));
      }
    }
    if (implicit) {
      for (const name of ["accept", "reject"]) {
        if (workflow.implicit[name] === item.key) delete workflow.implicit[name];
      }
    }
    opened.delete(uid(item));
    announce("Transition « " + transitionName(item) + " » supprimée.");
    const next = transitions()[Math.min(index, transitions().length - 1)];
    state.focusAfter = next ? uid(next) + ":toggle" : "transition:add";
    changed({ forms: true });
  }

  // The fields an agent fills in when taking the transition (kept in the dossier's private
  // annotations). The simple list covers the usual types; any other property stays as is.
  function transitionFieldsEditor(item) {
    const fields = list(item, "fields");
    const focusBase = uid(item) + ":fields";
    return h(
      "fieldset",
      { className: "wf-fields" },
      h("legend", {}, "Champs à remplir en la déclenchant"),
      fields.length
        ? h(
            "ol",
            { className: "wf-rows" },
            fields.map((field, index) => fieldRow(item, field, index)),
          )
        : h("p", { className: "muted" }, "Aucun champ."),
      h(
        "button",
        {
          type: "button",
          className: "small-button",
          "data-focus": focusBase + ":add",
          onclick: () => {
            const used = new Set(fields.map((f) => f.key));
            const field = {
              key: uniqueKey("champ", used),
              type: "text",
              label: "Nouveau champ",
              required: false,
            };
            fields.push(field);
            announce("Champ ajouté à la transition « " + transitionName(item) + " ».");
            state.focusAfter = uid(field) + ":label";
            changed({ forms: true });
          },
        },
        "Ajouter un champ",
      ),
    );
  }

  function optionsText(field) {
    return (Array.isArray(field.options) ? field.options : [])
      .filter(isObject)
      .map((o) => (o.label && o.label !== o.value ? o.value + " = " + o.label : o.value))
      .join("\n");
  }

  function parseOptions(text) {
    const used = new Set();
    const options = [];
    for (const line of text.split("\n")) {
      const trimmed = line.trim();
      if (!trimmed) continue;
      const cut = trimmed.indexOf("=");
      let value = cut > 0 ? trimmed.slice(0, cut).trim() : "";
      const label = cut > 0 ? trimmed.slice(cut + 1).trim() : trimmed;
      if (!value) value = slugify(label, "option").replace(/_/g, "-").slice(0, 50);
      value = uniqueKey(value, used);
      used.add(value);
      options.push({ value, label: label || value });
    }
    return options;
  }

  function fieldRow(transition, field, index) {
    if (!isObject(field)) return h("li", {}, "Champ illisible : corrigez-le dans le JSON.");
    const focus = (name) => uid(field) + ":" + name;
    const name = shorten(field.label || field.key || "?", 40);
    const types = Object.entries(config.fieldTypes);
    return rowItem(
      "wf-row",
      "Champ " + (index + 1),
      textInput({
        label: "Libellé",
        value: field.label,
        focus: focus("label"),
        onInput: setTo(field, "label"),
      }),
      textInput({
        label: "Identifiant",
        value: field.key,
        focus: focus("key"),
        attrs: { spellcheck: "false", autocomplete: "off" },
        help: "Le nom de la valeur dans les annotations du dossier et dans les textes (annotations.<identifiant>).",
        onChange: (value) => {
          field.key = value.trim();
          changed({ forms: true });
        },
      }),
      selectInput({
        label: "Type",
        value: field.type,
        focus: focus("type"),
        choices: types,
        onChange: (value) => {
          field.type = value;
          if (value !== "choice") delete field.options;
          else if (!Array.isArray(field.options) || !field.options.length)
            field.options = [
              { value: "oui", label: "Oui" },
              { value: "non", label: "Non" },
            ];
          delete field.validation;
          changed({ forms: true });
        },
      }),
      field.type === "choice"
        ? textInput({
            label: "Options (une par ligne : valeur = libellé, ou seulement le libellé)",
            multiline: true,
            rows: 3,
            value: optionsText(field),
            focus: focus("options"),
            onChange: (value) => {
              field.options = parseOptions(value);
              changed({ forms: true });
            },
          })
        : null,
      checkboxInput({
        label: "Obligatoire",
        checked: field.required === true,
        focus: focus("required"),
        onChange: setTo(field, "required"),
      }),
      smallButton(
        "Retirer",
        "Retirer le champ « " + name + " » de la transition « " + transitionName(transition) + " »",
        focus("remove"),
        () => {
          transition.fields.splice(index, 1);
          announce("Champ « " + name + " » retiré.");
          state.focusAfter = uid(transition) + ":fields:add";
          changed({ forms: true });
        },
      ),
    );
  }

  // --- The guard: a condition on the answers, the annotations and the transition's fields ------

  function guardCandidates(item) {
    const own = (Array.isArray(item.fields) ? item.fields : [])
      .filter((f) => isObject(f) && typeof f.key === "string" && f.key)
      .map((f) => ({
        key: f.key,
        label: (f.label || f.key) + " (champ de la transition)",
        type: f.type,
        options: f.options,
      }));
    const ownKeys = new Set(own.map((f) => f.key));
    return config.formFields.filter((f) => !ownKeys.has(f.key)).concat(own);
  }

  // The model of the simple editor ("all / any of these comparisons", anything else as JSON) is
  // backoffice-common.js's; what is the guard's own: the values' types, the controls for values.

  // The value typed for the comparison: numbers for order comparisons and decimals (with a
  // decimal comma too), booleans for yes/no.
  function typedValue(spec, op, raw) {
    const type = spec ? spec.type : "";
    const text = String(raw);
    if (type === "yesno" || type === "checkbox") return text === "true";
    if (type === "integer" && /^-?\d+$/.test(text.trim())) return parseInt(text, 10);
    if (
      (type === "decimal" || B.ORDER_OPS.includes(op)) &&
      type !== "date" &&
      type !== "datetime" &&
      type !== "text" &&
      /^-?\d+(\.\d+)?$/.test(text.trim().replace(",", "."))
    ) {
      const normal = text.trim().replace(",", ".");
      return B.ORDER_OPS.includes(op) ? Number(normal) : normal;
    }
    return text;
  }

  function valueControl(leaf, spec, focus, update) {
    if (leaf.op === "is_empty") return null;
    const known =
      spec && Array.isArray(spec.options) && spec.options.length
        ? spec.options.filter(isObject).map((o) => [String(o.value), o.label || String(o.value)])
        : spec && (spec.type === "yesno" || spec.type === "checkbox")
          ? [
              ["true", "Oui"],
              ["false", "Non"],
            ]
          : null;
    if (leaf.op === "in") {
      return kit.conditionValuesInput({
        leaf,
        spec,
        focus,
        typedValue,
        update,
        help: known ? "Valeurs possibles : " + known.map(([v]) => v).join(", ") + "." : null,
      });
    }
    if (known) {
      return selectInput({
        label: "Valeur",
        value: leaf.value === undefined ? "" : String(leaf.value),
        focus: focus + ":value",
        choices: known,
        onChange: (raw) => {
          leaf.value = typedValue(spec, leaf.op, raw);
          update(false);
        },
      });
    }
    return kit.conditionValueInput({ leaf, spec, focus, typedValue, update });
  }

  function guardEditor(item) {
    const base = uid(item) + ":guard";
    const candidates = guardCandidates(item);
    const specOf = (key) => candidates.find((c) => c.key === key) || null;
    const simple = B.toSimple(item.guard, config.operators);
    const json = kit.conditionJson({
      idKind: "guard",
      rows: 5,
      focus: base,
      label: "JSON de la condition (vide : toujours possible)",
      open: !simple,
      onApply: (condition) => {
        item.guard = condition;
        announce("Condition appliquée.");
        state.focusAfter = base + ":apply";
        changed({ forms: true });
      },
    });
    const showJson = () =>
      json.show(
        item.guard === null || item.guard === undefined ? "" : JSON.stringify(item.guard, null, 2),
      );
    showJson();
    const update = (rerender) => {
      if (simple) item.guard = B.fromSimple(simple);
      showJson();
      changed({ forms: rerender });
    };
    const body = [h("legend", {}, "Condition pour pouvoir la déclencher")];
    // A new comparison names the first candidate: the form's first question.
    const newLeaf = () => {
      const spec = candidates[0];
      return { op: "equals", field: spec ? spec.key : "", value: B.defaultValue(spec) };
    };
    if (!simple) {
      body.push(
        h("p", {}, B.ADVANCED_CONDITION),
        smallButton("Retirer la condition", null, base + ":clear", () => {
          item.guard = null;
          announce("Condition retirée : la transition est toujours possible.");
          state.focusAfter = base + ":add";
          changed({ forms: true });
        }),
      );
    } else if (!simple.rows.length) {
      body.push(h("p", {}, "Toujours possible."));
      body.push(
        candidates.length
          ? smallButton("Possible seulement si…", null, base + ":add", () => {
              simple.rows.push(newLeaf());
              announce("Condition ajoutée : choisissez le champ, la comparaison et la valeur.");
              state.focusAfter = base + ":0:field";
              update(true);
            })
          : h(
              "p",
              { className: "help" },
              "Le formulaire n'a aucune question et la transition aucun champ : pas de condition possible.",
            ),
      );
    } else {
      body.push(
        simple.rows.length > 1
          ? kit.conditionJoin(simple, "Possible quand", base, update)
          : h("p", {}, "Possible seulement si :"),
      );
      simple.rows.forEach((leaf, index) => {
        const spec = specOf(leaf.field);
        const focus = base + ":" + index;
        body.push(
          kit.conditionRow({
            index,
            leaf,
            spec,
            focus,
            fields: candidates.map((c) => [c.key, shorten(c.label, 50) + " (" + c.key + ")"]),
            operators: config.operators,
            specOf,
            typedValue,
            update,
            value: () => valueControl(leaf, spec, focus, update),
            remove: smallButton(
              "Retirer",
              "Retirer la condition " +
                (index + 1) +
                " de la transition « " +
                transitionName(item) +
                " »",
              focus + ":remove",
              () => {
                simple.rows.splice(index, 1);
                announce("Condition " + (index + 1) + " retirée.");
                state.focusAfter = simple.rows.length
                  ? base + ":" + Math.max(0, index - 1) + ":field"
                  : base + ":add";
                update(true);
              },
            ),
          }),
        );
      });
      body.push(
        smallButton("Ajouter une condition", null, base + ":more", () => {
          simple.rows.push(newLeaf());
          announce("Condition " + simple.rows.length + " ajoutée.");
          state.focusAfter = base + ":" + (simple.rows.length - 1) + ":field";
          update(true);
        }),
      );
    }
    body.push(json.node);
    return h("fieldset", { className: "condition-editor" }, body);
  }

  // --- Actions ----------------------------------------------------------------------------------

  function variablesBox() {
    return h(
      "details",
      { className: "wf-variables" },
      h("summary", {}, "Variables utilisables dans les textes"),
      h(
        "p",
        { className: "help" },
        "Écrivez une variable entre doubles accolades, par exemple {{ dossier.reference }}.",
      ),
      h(
        "dl",
        {},
        Object.entries(config.variables).map(([name, text]) => [
          h("dt", {}, h("code", {}, "{{ " + name + " }}")),
          h("dd", {}, text),
        ]),
      ),
      h("p", { className: "help" }, "Filtres :"),
      h(
        "dl",
        {},
        Object.entries(config.filters).map(([name, text]) => [
          h("dt", {}, h("code", {}, name)),
          h("dd", {}, text),
        ]),
      ),
    );
  }

  function textProp(action, name, label, options) {
    const opts = options || {};
    return textInput({
      label,
      help: opts.help,
      multiline: opts.multiline,
      rows: opts.rows || 6,
      value: action[name],
      focus: uid(action) + ":" + name,
      className: opts.multiline ? "wf-template" : null,
      attrs: opts.attrs,
      onInput: (value) => {
        if (opts.optional) setOptional(action, name, value);
        else action[name] = value;
        changed({});
      },
    });
  }

  function linesOf(text) {
    return text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  }

  // A list of texts (addresses, pieces), one per line.
  function linesInput(action, name, label) {
    return textInput({
      label,
      multiline: true,
      rows: 3,
      value: (Array.isArray(action[name]) ? action[name] : []).join("\n"),
      focus: uid(action) + ":" + name,
      onInput: (value) => {
        action[name] = linesOf(value);
        changed({});
      },
    });
  }

  function randomSecret() {
    const bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function actionProps(action, owner, kind) {
    const focus = (name) => uid(action) + ":" + name;
    const ownFields =
      kind === "transition" && Array.isArray(owner.fields)
        ? owner.fields.filter((f) => isObject(f) && f.key)
        : [];
    const fieldChoices = (types) => [
      ["", "— aucun —"],
      ...ownFields
        .filter((f) => types.includes(f.type))
        .map((f) => [f.key, shorten(f.label || f.key, 40) + " (" + f.key + ")"]),
    ];
    switch (action.type) {
      case "email":
        return [
          selectInput({
            label: "Destinataire",
            value: action.to,
            focus: focus("to"),
            choices: Object.entries(config.emailTargets),
            onChange: (value) => {
              action.to = value;
              if (value !== "agents") delete action.agents;
              else if (!Array.isArray(action.agents)) action.agents = [];
              changed({ forms: true });
            },
          }),
          action.to === "agents"
            ? linesInput(action, "agents", "Adresses e-mail des agents (une par ligne)")
            : null,
          textProp(action, "subject", "Objet"),
          textProp(action, "body", "Texte du message", { multiline: true, rows: 8 }),
        ];
      case "sms":
        return [
          textProp(action, "body", "Texte du SMS", {
            multiline: true,
            rows: 3,
            help: "Envoyé seulement à l'usager qui a choisi d'être prévenu par SMS.",
          }),
        ];
      case "message":
        return [
          textProp(action, "body", "Message affiché à l'usager sur sa demande", {
            multiline: true,
          }),
        ];
      case "note":
        return [
          textProp(action, "body", "Note interne (jamais montrée à l'usager)", { multiline: true }),
        ];
      case "assign": {
        const services = [
          ["", "— aucun —"],
          ["in_charge", "Le service chargé de la démarche"],
          ...(config.services || []).map((name) => [name, name]),
        ];
        return [
          selectInput({
            label: "Attribuer au service",
            value: action.service || "",
            focus: focus("service"),
            choices: services,
            onChange: (value) => {
              setOptional(action, "service", value);
              changed({});
            },
          }),
          textProp(action, "agent", "Attribuer à l'agent (adresse e-mail, facultatif)", {
            optional: true,
            attrs: { type: "email", autocomplete: "off" },
          }),
        ];
      }
      case "request_pieces": {
        const fromField = typeof action.items_field === "string";
        return [
          selectInput({
            label: "Pièces demandées",
            value: fromField ? "field" : "list",
            focus: focus("items-mode"),
            choices: [
              ["list", "une liste fixe, ci-dessous"],
              ...(ownFields.length || fromField
                ? [["field", "celles que l'agent écrit dans un champ de la transition"]]
                : []),
            ],
            onChange: (value) => {
              if (value === "field") {
                const candidate = ownFields.find((f) => f.type === "textarea" || f.type === "text");
                action.items_field = candidate ? candidate.key : "";
                delete action.items;
              } else {
                delete action.items_field;
                action.items = [];
              }
              changed({ forms: true });
            },
          }),
          fromField
            ? selectInput({
                label: "Champ de la transition qui les liste (une pièce par ligne)",
                value: action.items_field,
                focus: focus("items_field"),
                choices: fieldChoices(["textarea", "text"]).slice(1),
                onChange: setTo(action, "items_field"),
              })
            : linesInput(action, "items", "Liste des pièces (une par ligne)"),
          textInput({
            label: "Délai pour répondre (jours)",
            type: "number",
            value: action.deadline_days,
            focus: focus("deadline_days"),
            attrs: { min: 1, step: 1, inputmode: "numeric" },
            help: ownFields.length
              ? "Utilisé quand l'agent ne remplit pas le champ de délai choisi ci-dessous."
              : null,
            onInput: (value) => {
              action.deadline_days = B.wholeNumberOr(value);
              changed({});
            },
          }),
          ownFields.length || action.deadline_field
            ? selectInput({
                label: "Délai saisi par l'agent (champ nombre entier de la transition)",
                value: action.deadline_field || "",
                focus: focus("deadline_field"),
                choices: fieldChoices(["integer"]),
                onChange: (value) => {
                  setOptional(action, "deadline_field", value);
                  changed({});
                },
              })
            : null,
          textProp(action, "message", "Message à l'usager", { multiline: true, rows: 3 }),
        ];
      }
      case "document":
        return [
          selectInput({
            label: "Type de document",
            value: action.kind,
            focus: focus("kind"),
            choices: Object.entries(config.documentKinds),
            onChange: setTo(action, "kind"),
          }),
          textProp(action, "title", "Titre du document"),
          textProp(action, "template", "Contenu du document", { multiline: true, rows: 10 }),
          checkboxInput({
            label: "Montré à l'usager sur sa demande",
            checked: action.visible_to_citizen !== false,
            focus: focus("visible"),
            onChange: (checked) => {
              if (checked) delete action.visible_to_citizen;
              else action.visible_to_citizen = false;
              changed({});
            },
          }),
        ];
      case "set_fields": {
        const values = isObject(action.values) ? action.values : {};
        return [
          textInput({
            label: "Champs privés à renseigner (une ligne par champ : identifiant = valeur)",
            multiline: true,
            rows: 4,
            value: Object.entries(values)
              .map(([k, v]) => k + " = " + (typeof v === "string" ? v : JSON.stringify(v)))
              .join("\n"),
            focus: focus("values"),
            help: "Les valeurs peuvent utiliser les variables, par exemple decision = {{ transition.libelle }}.",
            onInput: (value) => {
              const next = {};
              for (const line of linesOf(value)) {
                const cut = line.indexOf("=");
                if (cut > 0) next[line.slice(0, cut).trim()] = line.slice(cut + 1).trim();
              }
              action.values = next;
              changed({});
            },
          }),
        ];
      }
      case "webhook": {
        const secret = textProp(action, "secret", "Secret de signature (16 caractères ou plus)", {
          attrs: { autocomplete: "off", spellcheck: "false" },
        });
        return [
          textProp(action, "url", "Adresse (https://…)", {
            attrs: { type: "url", autocomplete: "off", spellcheck: "false" },
          }),
          secret,
          smallButton("Générer un secret", null, focus("secret:new"), () => {
            action.secret = randomSecret();
            secret.input.value = action.secret;
            announce("Secret généré : recopiez-le dans le service qui reçoit le webhook.");
            changed({});
          }),
        ];
      }
      default:
        return [
          h(
            "p",
            { className: "field-warning" },
            "Type d'action inconnu : choisissez un type ci-dessus, ou corrigez le JSON.",
          ),
        ];
    }
  }

  function changeType(action, type) {
    const kept = {};
    for (const name of TEXT_PROPS) if (typeof action[name] === "string") kept[name] = action[name];
    for (const name of Object.keys(action)) delete action[name];
    Object.assign(action, { type }, ACTION_DEFAULTS[type] ? ACTION_DEFAULTS[type]() : {});
    // The texts already written follow when the new type has them.
    for (const [name, value] of Object.entries(kept)) if (name in action) action[name] = value;
  }

  function actionsEditor(owner, kind) {
    const actions = list(owner, "actions");
    const ownerName =
      kind === "status"
        ? "du statut « " + statusName(owner) + " »"
        : "de la transition « " + transitionName(owner) + " »";
    const base = uid(owner) + ":actions";
    return h(
      "fieldset",
      { className: "wf-actions" },
      h(
        "legend",
        {},
        kind === "status"
          ? "Actions à l'entrée dans ce statut"
          : "Actions quand la transition est prise (avant celles du statut d'arrivée)",
      ),
      actions.length
        ? h(
            "ol",
            { className: "wf-rows" },
            actions.map((action, index) => {
              if (!isObject(action)) {
                return h("li", {}, "Action illisible : corrigez-la dans le JSON.");
              }
              const label = config.actionTypes[action.type] || action.type || "?";
              const named = "l'action " + (index + 1) + " (" + label + ") " + ownerName;
              const props = actionProps(action, owner, kind);
              const hasText = TEXT_PROPS.some((name) => name in action);
              return rowItem(
                "wf-row wf-action",
                "Action " + (index + 1) + " : " + label,
                h(
                  "div",
                  { className: "row-actions" },
                  B.moveButtons(named, uid(action), index, actions.length, (delta) =>
                    moveAction(owner, action, delta),
                  ),
                  smallButton("Supprimer", "Supprimer " + named, uid(action) + ":remove", () => {
                    if (!window.confirm("Supprimer " + named + " ?")) return;
                    actions.splice(index, 1);
                    announce("Action « " + label + " » supprimée.");
                    const next = actions[Math.min(index, actions.length - 1)];
                    state.focusAfter = next ? uid(next) + ":type" : base + ":add";
                    changed({ forms: true });
                  }),
                ),
                selectInput({
                  label: "Type d'action",
                  value: action.type,
                  focus: uid(action) + ":type",
                  choices: Object.entries(config.actionTypes),
                  onChange: (type) => {
                    changeType(action, type);
                    announce("Action " + (index + 1) + " : « " + config.actionTypes[type] + " ».");
                    changed({ forms: true });
                  },
                }),
                hasText
                  ? h("div", { className: "wf-text-grid" }, h("div", {}, props), variablesBox())
                  : props,
              );
            }),
          )
        : h("p", { className: "muted" }, "Aucune action."),
      smallButton("Ajouter une action", "Ajouter une action " + ownerName, base + ":add", () => {
        const action = Object.assign({ type: "email" }, ACTION_DEFAULTS.email());
        actions.push(action);
        announce(
          "Action « " +
            config.actionTypes.email +
            " » ajoutée " +
            ownerName +
            " ; changez son type si besoin.",
        );
        state.focusAfter = uid(action) + ":type";
        changed({ forms: true });
      }),
    );
  }

  function moveAction(owner, action, step) {
    const actions = owner.actions;
    const target = B.moveInList(actions, actions.indexOf(action), step);
    if (target < 0) return;
    announce("Action déplacée en position " + (target + 1) + " sur " + actions.length + ".");
    state.focusAfter = B.moveFocusKey(uid(action), step);
    changed({ forms: true });
  }

  // --- The implicit decision --------------------------------------------------------------------

  function implicitEditor() {
    const implicit = isObject(workflow.implicit) ? workflow.implicit : {};
    const choices = [
      ["", "— aucune —"],
      ...transitions().map((t) => [
        t.key,
        transitionName(t) + (t.by === "system" ? "" : " (n'est pas déclenchée par le système)"),
      ]),
    ];
    // The transition taken for "accept" or "reject" (none: the property is left out).
    const transitionFor = (name, label) =>
      selectInput({
        label,
        value: implicit[name] || "",
        focus: "implicit:" + name,
        choices,
        onChange: (value) => {
          if (!isObject(workflow.implicit)) workflow.implicit = {};
          setOptional(workflow.implicit, name, value);
          changed({ forms: true });
        },
      });
    return h(
      "section",
      { "aria-labelledby": "wf-implicit-title", className: "wf-section" },
      h("h2", { id: "wf-implicit-title" }, "Décision implicite"),
      h(
        "p",
        {},
        "Réglage de la démarche : « " +
          config.implicitDecisionLabel +
          " ». À la date de la décision implicite, le système prend la transition choisie ici (elle doit être déclenchée par le système).",
      ),
      transitionFor("accept", "Transition d'acceptation implicite (silence vaut acceptation)"),
      transitionFor("reject", "Transition de rejet implicite (silence vaut rejet)"),
    );
  }

  // --- Rendering --------------------------------------------------------------------------------

  function renderForms() {
    const wanted = state.focusAfter;
    state.focusAfter = null;
    renderKeepingFocus(formsNode, wanted, () => formsNode.replaceChildren(...formsContent()));
  }

  function formsContent() {
    const initialChoices = statuses().map((s) => [s.key, statusName(s) + " (" + s.key + ")"]);
    return [
      h(
        "section",
        { "aria-labelledby": "wf-statuses-title", className: "wf-section" },
        h("h2", { id: "wf-statuses-title" }, "Statuts"),
        selectInput({
          label: "Statut initial (celui de tout dossier déposé)",
          value: workflow.initial,
          focus: "initial",
          choices: initialChoices,
          onChange: setTo(workflow, "initial", { forms: true }),
        }),
        h("ol", { className: "wf-items" }, statuses().map(statusItem)),
        h(
          "button",
          {
            type: "button",
            className: "button-secondary",
            "data-focus": "status:add",
            onclick: addStatus,
          },
          "Ajouter un statut",
        ),
      ),
      h(
        "section",
        { "aria-labelledby": "wf-transitions-title", className: "wf-section" },
        h("h2", { id: "wf-transitions-title" }, "Transitions"),
        h(
          "p",
          { className: "help" },
          "Une transition fait passer un dossier d'un statut à un autre : un bouton pour l'agent ou l'usager, ou un passage automatique (délai, décision implicite).",
        ),
        h("ol", { className: "wf-items" }, transitions().map(transitionItem)),
        h(
          "button",
          {
            type: "button",
            className: "button-secondary",
            "data-focus": "transition:add",
            onclick: addTransition,
          },
          "Ajouter une transition",
        ),
      ),
      implicitEditor(),
    ];
  }

  // After typing: the names in the heads of the items, without rebuilding the forms.
  function refreshHeads() {
    for (const item of statuses().concat(transitions())) {
      const id = uid(item);
      const name = formsNode.querySelector('[data-name-for="' + id + '"]');
      const isStatus = statuses().includes(item);
      if (name) name.textContent = isStatus ? statusName(item) : transitionName(item);
      const key = formsNode.querySelector('[data-key-for="' + id + '"]');
      if (key) key.textContent = "(" + (item.key || "?") + ")";
      const swatch = formsNode.querySelector('[data-swatch-for="' + id + '"]');
      if (swatch)
        swatch.style.background = COLOUR_PATTERN.test(item.colour || "") ? item.colour : "#eee";
      const route = formsNode.querySelector('[data-route-for="' + id + '"]');
      if (route) {
        const origins = (Array.isArray(item.from) ? item.from : []).map(nameOfKey).join(", ");
        route.textContent = (origins || "?") + " → " + (item.to ? nameOfKey(item.to) : "?");
      }
    }
  }

  let drawFrame = null;
  function redraw() {
    if (drawFrame) return;
    drawFrame = window.requestAnimationFrame(() => {
      drawFrame = null;
      try {
        Diagram.draw(svg, workflow);
      } catch (error) {
        // The text description below still says it all.
      }
      const lines = Diagram.describe(workflow);
      descriptionList.replaceChildren(
        ...(lines.length ? lines : ["Aucune transition."]).map((l) => h("li", {}, l)),
      );
    });
  }

  // Every edit ends here: forms rebuilt when their structure changed, the heads otherwise;
  // the diagram and the draft (dirty note, JSON form, autosave) always.
  function changed(options) {
    const opts = options || {};
    if (opts.forms) renderForms();
    else refreshHeads();
    redraw();
    draft.changed();
  }

  // --- After a save (saving and publishing themselves are the draft session's) -----------------

  function showSaved(data) {
    const problems = data.problems || [];
    showProblems(problems, data.other_problems || []);
    announce(
      "Circuit enregistré à " +
        B.clock() +
        " (brouillon, version " +
        data.version +
        "). " +
        (problems.length
          ? plural(problems.length, "point", "points") +
            " à corriger dans le circuit avant de publier."
          : "Aucun point à corriger dans le circuit."),
    );
  }

  // --- Start ------------------------------------------------------------------------------------

  function editable(value) {
    return (
      isObject(value) &&
      Array.isArray(value.statuses) &&
      value.statuses.every(isObject) &&
      Array.isArray(value.transitions) &&
      value.transitions.every(isObject)
    );
  }

  diagramHolder.hidden = false;
  const legend = document.getElementById("wf-legend");
  if (legend) legend.hidden = false;
  if (zoomButton) {
    zoomButton.hidden = false;
    diagramHolder.classList.add("wf-diagram-scroll--fit");
    zoomButton.addEventListener("click", () => {
      const fit = diagramHolder.classList.toggle("wf-diagram-scroll--fit");
      zoomButton.setAttribute("aria-pressed", fit ? "false" : "true");
    });
  }
  if (!editable(workflow)) {
    redraw();
    announce(
      "Ce circuit ne peut pas être modifié avec l'éditeur visuel : corrigez-le dans le JSON ci-dessous.",
    );
    return;
  }

  draft.start();
  if (resetForm) {
    resetForm.addEventListener("submit", (event) => {
      const question =
        "Remplacer le circuit du brouillon par le circuit par défaut ? Vos statuts, transitions et actions actuels seront perdus.";
      if (!window.confirm(question)) {
        event.preventDefault();
        return;
      }
      draft.cancelAutosave();
      resetForm.append(h("input", { type: "hidden", name: "confirm", value: "yes" }));
      draft.leave();
    });
  }

  renderForms();
  redraw();
})();
