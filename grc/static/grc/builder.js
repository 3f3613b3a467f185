/*
 * The form builder of the backoffice (grc/backoffice/demarches/builder.py).
 *
 * A small application without framework nor build step: the definition (docs/form-definition.md)
 * lives in memory as JSON; the structure (pages, fields, sub-fields of blocks), the palette and
 * the side panel are rendered from it after each change. "Enregistrer" (or the autosave) posts
 * it to the save endpoint, which keeps it in the draft version and answers with the problems
 * that block publication; the preview endpoint renders the current page with the citizens' own
 * template, shown in a sandboxed frame. The server checks everything again: nothing here is a
 * rule, only help to write a correct form.
 *
 * Accessibility: every action is a real <button> named after its field; reordering works with
 * "Monter"/"Descendre" as well as drag and drop; results are announced in the status region.
 *
 * What it shares with the workflow editor (elements, inputs, saving, publishing, the model of
 * conditions) is in backoffice-common.js, loaded before it.
 */
(function () {
  "use strict";

  const root = document.getElementById("builder");
  if (!root) return;
  const B = window.GrcBackoffice;
  const { h, isObject, setOptional, shorten, slugify, smallButton, plural } = B;
  const kit = B.toolkit({ idPrefix: "bld", uidPrefix: "u", focusFallbacks: [":edit"] });
  const { uid, newId, focusByKey, renderKeepingFocus, textInput, checkboxInput, selectInput } = kit;
  const config = JSON.parse(document.getElementById("builder-config").textContent);
  let definition = JSON.parse(document.getElementById("builder-definition").textContent);

  const OPTION_PATTERN = /^[a-z0-9_-]{1,50}$/;
  const TYPES = config.fieldTypes;
  const DISPLAY_ONLY = new Set(config.displayOnly);
  const OPERATORS = config.operators;
  // Properties that only some types have: dropped when a field changes type.
  const PROPS_BY_TYPE = {
    options: ["choice", "multiple"],
    widget: ["choice"],
    accept: ["file"],
    max_size_mb: ["file"],
    multiple: ["file"],
    fields: ["block"],
    min_items: ["block"],
    max_items: ["block"],
    item_label: ["block"],
    text: ["explanation"],
  };

  const structureNode = document.getElementById("builder-structure");
  const panel = document.getElementById("builder-panel");
  const palette = document.getElementById("builder-palette");
  const paletteTarget = document.getElementById("builder-palette-target");
  const problemsNode = document.getElementById("builder-problems");
  const previewSection = document.getElementById("builder-preview-section");
  const previewFrame = document.getElementById("builder-preview");
  const previewNote = document.getElementById("builder-preview-note");

  const state = {
    page: null, // the page new fields go to, and the one previewed
    selected: null, // {kind: "page", page} or {kind: "field", field}
    focusAfter: null,
  };
  // Fields whose key still follows their label (new fields, until the key is typed).
  const autoKeyed = new WeakSet();
  const autoValued = new WeakSet();

  const announce = B.announcer(document.getElementById("builder-status"));
  const draft = B.draftSession({
    prefix: "builder",
    root,
    field: "definition",
    value: () => definition,
    urls: config.urls,
    announce,
    texts: {
      notSaved: "Le brouillon n'a pas pu être enregistré",
      publishQuestion:
        "Publier ce formulaire ? Les nouveaux dossiers l'utiliseront ; les dossiers déjà déposés gardent leur version.",
      publishCancelled: "Publication annulée : le brouillon n'a pas pu être enregistré.",
      published: "Formulaire publié.",
    },
    onSaved: showSaved,
    onSaveRefused: (problems) => showProblems(problems, "Enregistrement refusé"),
    onPublished: () => showProblems([]),
    onPublishRefused: (problems) => showProblems(problems, "Publication refusée"),
  });

  // --- Small helpers ---------------------------------------------------------------------------

  const hasAnswer = (field) => !DISPLAY_ONLY.has(field.type);
  const setTo = B.setterFor(changed);

  function fieldName(field) {
    const text =
      field.label ||
      (field.type === "explanation" ? field.text : "") ||
      field.key ||
      TYPES[field.type];
    return shorten(text || "?", 60);
  }

  function pageName(page) {
    return shorten(page.title || page.key || "Page " + (definition.pages.indexOf(page) + 1), 60);
  }

  // --- The definition: walking, finding, keys ---------------------------------------------------

  function allFields() {
    const found = [];
    for (const page of definition.pages) {
      for (const field of page.fields) {
        found.push({ field, page, block: null });
        if (field.type === "block" && Array.isArray(field.fields)) {
          for (const sub of field.fields) found.push({ field: sub, page, block: field });
        }
      }
    }
    return found;
  }

  function locate(field) {
    for (const page of definition.pages) {
      const index = page.fields.indexOf(field);
      if (index >= 0) return { page, list: page.fields, index, block: null };
      for (const block of page.fields) {
        if (block.type === "block" && Array.isArray(block.fields)) {
          const subIndex = block.fields.indexOf(field);
          if (subIndex >= 0) return { page, list: block.fields, index: subIndex, block };
        }
      }
    }
    return null;
  }

  function usedKeys(except) {
    const keys = new Set(definition.pages.filter((p) => p !== except).map((p) => p.key));
    for (const { field } of allFields()) if (field !== except) keys.add(field.key);
    return keys;
  }

  // Keys are unique in the whole form (pages and fields); `except` is the one being named.
  const uniqueKey = (base, except) => B.uniqueKey(base, usedKeys(except));
  const keyProblem = (key, owner) =>
    B.keyProblem(key, usedKeys(owner), "Cet identifiant est déjà utilisé dans le formulaire.");

  function referencedIn(condition, into) {
    if (!isObject(condition)) return into;
    if (typeof condition.field === "string") into.push(condition.field);
    if (Array.isArray(condition.conditions))
      condition.conditions.forEach((c) => referencedIn(c, into));
    referencedIn(condition.condition, into);
    return into;
  }

  function renameInCondition(condition, from, to) {
    if (!isObject(condition)) return 0;
    let count = 0;
    if (condition.field === from) {
      condition.field = to;
      count += 1;
    }
    if (Array.isArray(condition.conditions)) {
      condition.conditions.forEach((c) => (count += renameInCondition(c, from, to)));
    }
    return count + renameInCondition(condition.condition, from, to);
  }

  function everyCondition() {
    const found = definition.pages.map((p) => p.condition);
    for (const { field } of allFields()) found.push(field.condition);
    return found.filter(isObject);
  }

  function renameReferences(from, to) {
    return everyCondition().reduce((n, c) => n + renameInCondition(c, from, to), 0);
  }

  function countReferences(keys) {
    const names = new Set(keys);
    return everyCondition().reduce(
      (n, c) => n + referencedIn(c, []).filter((k) => names.has(k)).length,
      0,
    );
  }

  // Fields a condition of `target` may name: those before it (docs/form-definition.md).
  function conditionCandidates(target) {
    const found = [];
    for (const page of definition.pages) {
      if (target.kind === "page" && page === target.page) return found;
      for (const field of page.fields) {
        if (target.kind === "field" && field === target.field) return found;
        if (field.type === "block" && target.kind === "field" && Array.isArray(field.fields)) {
          if (field.fields.includes(target.field)) {
            for (const sub of field.fields) {
              if (sub === target.field) return found;
              if (hasAnswer(sub)) found.push(sub);
            }
          }
        }
        if (hasAnswer(field)) found.push(field);
      }
    }
    return found;
  }

  function specOf(key) {
    const hit = allFields().find(({ field }) => field.key === key);
    return hit ? hit.field : null;
  }

  // --- Creating fields and pages -----------------------------------------------------------------

  function defaultsFor(type) {
    const props = {};
    if (!DISPLAY_ONLY.has(type)) props.required = false;
    if (type === "explanation") props.text = "Votre texte d'explication.";
    if (type === "choice" || type === "multiple") {
      props.options = [
        { value: "option_1", label: "Option 1" },
        { value: "option_2", label: "Option 2" },
      ];
    }
    if (type === "choice") props.widget = "radio";
    if (type === "file") {
      props.accept = ["application/pdf", "image/jpeg", "image/png"];
      props.max_size_mb = 10;
      props.multiple = false;
    }
    if (type === "block") {
      props.min_items = 1;
      props.max_items = 10;
      props.item_label = "Élément";
      props.fields = [];
    }
    return props;
  }

  function newField(type) {
    const label = type === "explanation" ? "" : TYPES[type];
    const field = { key: "", type, label, ...defaultsFor(type) };
    field.key = uniqueKey(slugify(label || TYPES[type], "champ"));
    autoKeyed.add(field);
    return field;
  }

  function currentPage() {
    if (!definition.pages.includes(state.page)) state.page = definition.pages[0];
    return state.page;
  }

  function addField(type, block) {
    const field = newField(type);
    let where;
    if (block) {
      block.fields.push(field);
      where = "au bloc « " + fieldName(block) + " »";
    } else {
      const page = currentPage();
      let index = page.fields.length;
      const selected =
        state.selected && state.selected.kind === "field" ? locate(state.selected.field) : null;
      if (selected && selected.page === page && !selected.block) index = selected.index + 1;
      page.fields.splice(index, 0, field);
      where = "à la page « " + pageName(page) + " », en position " + (index + 1);
      if (type === "block") {
        const sub = newField("text");
        field.fields.push(sub);
      }
    }
    state.selected = { kind: "field", field };
    announce("Champ « " + TYPES[type] + " » ajouté " + where + ". Modifiez-le dans le panneau.");
    changed({ panel: true });
    focusPanelHeading();
  }

  function addPage() {
    const page = {
      key: uniqueKey("page_" + (definition.pages.length + 1)),
      title: "Nouvelle page",
      condition: null,
      fields: [],
    };
    definition.pages.push(page);
    state.page = page;
    state.selected = { kind: "page", page };
    announce("Page « Nouvelle page » ajoutée en position " + definition.pages.length + ".");
    changed({ panel: true });
    focusPanelHeading();
  }

  // --- Moving and removing ----------------------------------------------------------------------

  function moveField(field, delta) {
    const where = locate(field);
    const target = B.moveInList(where.list, where.index, delta);
    if (target < 0) return;
    state.focusAfter = B.moveFocusKey(uid(field), delta);
    announce(
      "« " +
        fieldName(field) +
        " » déplacé en position " +
        (target + 1) +
        " sur " +
        where.list.length +
        ".",
    );
    changed();
  }

  function moveFieldTo(field, list, index) {
    const where = locate(field);
    if (!where) return;
    if (where.list === list && where.index < index) index -= 1;
    if (where.list === list && where.index === index) return;
    where.list.splice(where.index, 1);
    list.splice(index, 0, field);
    const page = locate(field).page;
    const moved = page !== where.page ? " de la page « " + pageName(page) + " »" : "";
    announce("« " + fieldName(field) + " » déplacé en position " + (index + 1) + moved + ".");
    if (page !== where.page) state.page = page;
    changed({ panel: true });
  }

  function removeField(field) {
    const where = locate(field);
    const keys = [field.key].concat((field.fields || []).map((f) => f.key));
    const references = countReferences(keys);
    const warning = references
      ? "\n\nAttention : " +
        references +
        " condition(s) portent sur ce champ ; elles seront à corriger."
      : "";
    if (!window.confirm("Supprimer le champ « " + fieldName(field) + " » ?" + warning)) return;
    where.list.splice(where.index, 1);
    if (state.selected && state.selected.kind === "field" && !locate(state.selected.field)) {
      state.selected = null;
    }
    const neighbour = where.list[where.index] || where.list[where.index - 1];
    const next = neighbour
      ? uid(neighbour) + ":edit"
      : where.block
        ? uid(where.block) + ":edit"
        : null;
    state.focusAfter = next;
    announce("Champ « " + fieldName(field) + " » supprimé.");
    changed({ panel: true });
    if (!next) palette.querySelector("button").focus();
  }

  function movePage(page, delta) {
    const target = B.moveInList(definition.pages, definition.pages.indexOf(page), delta);
    if (target < 0) return;
    state.focusAfter = B.moveFocusKey(uid(page), delta);
    announce("Page « " + pageName(page) + " » déplacée en position " + (target + 1) + ".");
    changed();
  }

  function removePage(page) {
    if (definition.pages.length < 2) return;
    const count = page.fields.length;
    const question =
      "Supprimer la page « " +
      pageName(page) +
      " »" +
      (count ? " et ses " + count + " champ(s)" : "") +
      " ?";
    if (!window.confirm(question)) return;
    const index = definition.pages.indexOf(page);
    definition.pages.splice(index, 1);
    if (state.page === page) state.page = definition.pages[Math.max(0, index - 1)];
    if (
      state.selected &&
      (state.selected.page === page || (state.selected.field && !locate(state.selected.field)))
    ) {
      state.selected = null;
    }
    state.focusAfter = uid(state.page) + ":select";
    announce("Page « " + pageName(page) + " » supprimée.");
    changed({ panel: true });
  }

  function selectPage(page) {
    state.page = page;
    state.focusAfter = uid(page) + ":select";
    renderStructure();
    schedulePreview(0);
    announce(
      "Page « " +
        pageName(page) +
        " » choisie : les nouveaux champs s'y ajoutent et l'aperçu la montre.",
    );
  }

  function edit(selection) {
    state.selected = selection;
    if (selection.kind === "page") state.page = selection.page;
    else state.page = locate(selection.field).page;
    renderStructure();
    renderPanel();
    schedulePreview(0);
    focusPanelHeading();
  }

  function closePanel() {
    const previous = state.selected;
    state.selected = null;
    if (previous)
      state.focusAfter = uid(previous.kind === "page" ? previous.page : previous.field) + ":edit";
    renderStructure();
    renderPanel();
  }

  // --- Structure ---------------------------------------------------------------------------------

  // "Modifier", "Monter", "Descendre" and "Supprimer" on a page or a field of the structure,
  // `named` after it ("le champ « Nom »"); `item` is at `index` of `count`.
  function rowActions(named, item, index, count, actions) {
    return h(
      "div",
      { className: "row-actions" },
      smallButton("Modifier", "Modifier " + named, uid(item) + ":edit", actions.edit),
      B.moveButtons(named, uid(item), index, count, actions.move),
      smallButton(
        "Supprimer",
        "Supprimer " + named,
        uid(item) + ":remove",
        actions.remove,
        actions.cannotRemove,
      ),
    );
  }

  let drag = null;

  function clearDropMarks() {
    structureNode.querySelectorAll(".drop-before, .drop-after, .is-dragging").forEach((node) => {
      node.classList.remove("drop-before", "drop-after", "is-dragging");
    });
  }

  function acceptsDrop(context, event) {
    return (
      drag &&
      drag.block === context.block &&
      !drag.node.contains(event.target.closest("li") || event.target)
    );
  }

  function fieldRow(field, list, index, context, inSection) {
    const name = fieldName(field);
    const what = field.type === "title" ? "la section" : "le champ";
    const selected = state.selected && state.selected.field === field;
    const classes = ["field-row"];
    if (field.type === "title") classes.push("field-row--title");
    if (inSection) classes.push("field-row--in-section");
    if (selected) classes.push("is-selected");
    const summary = h(
      "div",
      { className: "field-summary" },
      field.type === "title"
        ? h("span", { className: "section-label" }, "Section : " + name)
        : h("span", { className: "field-label" }, name),
      " ",
      h(
        "span",
        { className: "meta" },
        (TYPES[field.type] || field.type) + " · " + (field.key || "sans identifiant"),
      ),
      field.required ? h("span", { className: "badge" }, "obligatoire") : null,
      field.condition ? h("span", { className: "badge badge--condition" }, "conditionnel") : null,
    );
    const actions = rowActions(what + " « " + name + " »", field, index, list.length, {
      edit: () => edit({ kind: "field", field }),
      move: (delta) => moveField(field, delta),
      remove: () => removeField(field),
    });
    const row = h(
      "li",
      { className: classes.join(" "), draggable: "true", "data-uid": uid(field) },
      h(
        "span",
        { className: "handle", "aria-hidden": "true", title: "Glisser pour déplacer" },
        "⠿",
      ),
      summary,
      actions,
    );
    row.addEventListener("dragstart", (event) => {
      if (event.target !== row) return;
      event.stopPropagation();
      drag = { field, block: context.block, node: row };
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", field.key || "");
      row.classList.add("is-dragging");
    });
    row.addEventListener("dragend", (event) => {
      event.stopPropagation();
      drag = null;
      clearDropMarks();
    });
    row.addEventListener("dragover", (event) => {
      if (!acceptsDrop(context, event) || drag.field === field) return;
      event.preventDefault();
      event.stopPropagation();
      event.dataTransfer.dropEffect = "move";
      const box = row.getBoundingClientRect();
      const after = event.clientY > box.top + Math.min(box.height / 2, 24);
      row.classList.toggle("drop-after", after);
      row.classList.toggle("drop-before", !after);
    });
    row.addEventListener("dragleave", (event) => {
      if (!row.contains(event.relatedTarget)) row.classList.remove("drop-before", "drop-after");
    });
    row.addEventListener("drop", (event) => {
      if (!acceptsDrop(context, event) || drag.field === field) return;
      event.preventDefault();
      event.stopPropagation();
      const after = row.classList.contains("drop-after");
      const moving = drag.field;
      drag = null;
      clearDropMarks();
      moveFieldTo(moving, list, list.indexOf(field) + (after ? 1 : 0));
    });
    if (field.type === "block") {
      if (!Array.isArray(field.fields)) field.fields = [];
      row.append(
        fieldList(field.fields, { page: context.page, block: field }),
        subFieldAdder(field),
      );
    }
    return row;
  }

  function fieldList(list, context) {
    const node = h("ol", { className: context.block ? "fields fields--block" : "fields" });
    let inSection = false;
    list.forEach((field, index) => {
      node.append(fieldRow(field, list, index, context, inSection && field.type !== "title"));
      if (field.type === "title") inSection = true;
    });
    if (!list.length) {
      node.append(
        h(
          "li",
          { className: "empty" },
          context.block ? "Aucun sous-champ." : "Aucun champ : ajoutez-en depuis la palette.",
        ),
      );
    }
    node.addEventListener("dragover", (event) => {
      if (acceptsDrop(context, event)) event.preventDefault();
    });
    node.addEventListener("drop", (event) => {
      if (!acceptsDrop(context, event)) return;
      event.preventDefault();
      event.stopPropagation();
      const moving = drag.field;
      drag = null;
      clearDropMarks();
      moveFieldTo(moving, list, list.length);
    });
    return node;
  }

  function subFieldAdder(block) {
    const id = newId("sub");
    const choice = h(
      "select",
      { id, "data-focus": uid(block) + ":subtype" },
      Object.entries(TYPES)
        .filter(([type]) => type !== "block" && type !== "title")
        .map(([type, label]) => h("option", { value: type }, label)),
    );
    return h(
      "div",
      { className: "sub-adder" },
      h("label", { for: id }, "Ajouter au bloc « " + fieldName(block) + " » :"),
      " ",
      choice,
      " ",
      smallButton("Ajouter le sous-champ", null, uid(block) + ":subadd", () =>
        addField(choice.value, block),
      ),
    );
  }

  function pageBox(page, index) {
    const name = pageName(page);
    const current = page === state.page;
    const selected = state.selected && state.selected.page === page;
    return h(
      "li",
      {
        className: "page-box" + (current ? " is-current" : "") + (selected ? " is-selected" : ""),
        "data-uid": uid(page),
      },
      h(
        "div",
        { className: "page-head" },
        h(
          "h3",
          {},
          h(
            "button",
            {
              type: "button",
              className: "page-select",
              "aria-pressed": current ? "true" : "false",
              "data-focus": uid(page) + ":select",
              title: "Ajouter les champs à cette page et la montrer dans l'aperçu",
              onclick: () => selectPage(page),
            },
            "Page " + (index + 1) + " : " + name,
          ),
        ),
        page.condition
          ? h("span", { className: "badge badge--condition" }, "conditionnelle")
          : null,
        rowActions("la page « " + name + " »", page, index, definition.pages.length, {
          edit: () => edit({ kind: "page", page }),
          move: (delta) => movePage(page, delta),
          remove: () => removePage(page),
          cannotRemove: definition.pages.length < 2,
        }),
      ),
      fieldList(page.fields, { page, block: null }),
    );
  }

  function renderStructure() {
    const wanted = state.focusAfter;
    state.focusAfter = null;
    renderKeepingFocus(structureNode, wanted, () =>
      structureNode.replaceChildren(
        h("ol", { className: "pages" }, definition.pages.map(pageBox)),
        h(
          "button",
          {
            type: "button",
            className: "button-secondary",
            "data-focus": "add-page",
            onclick: addPage,
          },
          "Ajouter une page",
        ),
      ),
    );
    const page = currentPage();
    const selected =
      state.selected && state.selected.kind === "field" ? locate(state.selected.field) : null;
    let text = "Les champs s'ajoutent à la page « " + pageName(page) + " »";
    if (selected && selected.page === page && !selected.block)
      text += ", après « " + fieldName(state.selected.field) + " »";
    paletteTarget.textContent = text + ".";
  }

  // --- Side panel: inputs (the others are backoffice-common.js's) ------------------------------

  function radioGroup(options) {
    const name = newId("radio");
    return h(
      "fieldset",
      { className: "radios" },
      h("legend", {}, options.legend),
      options.choices.map(([value, label], index) => {
        const id = name + "-" + index;
        return h(
          "div",
          { className: "form-field form-field--checkbox" },
          h("input", {
            type: "radio",
            name,
            id,
            value,
            checked: String(options.value) === String(value),
            "data-focus": options.focus + ":" + value,
            onchange: () => options.onChange(value),
          }),
          " ",
          h("label", { for: id }, label),
        );
      }),
    );
  }

  // --- Side panel: its frame ------------------------------------------------------------------

  // The panel's heading takes the focus when something is chosen for editing.
  const panelHeading = (text) => h("h2", { id: "builder-panel-title", tabindex: "-1" }, text);

  // At the end of the panel: remove what it edits, or close it.
  function panelActions(removeText, remove, cannotRemove) {
    return h(
      "div",
      { className: "panel-actions" },
      h(
        "button",
        {
          type: "button",
          className: "button-danger",
          "data-focus": "remove",
          disabled: cannotRemove,
          onclick: remove,
        },
        removeText,
      ),
      h(
        "button",
        {
          type: "button",
          className: "button-secondary",
          "data-focus": "close",
          onclick: closePanel,
        },
        "Fermer le panneau",
      ),
    );
  }

  // The inputs are in a form for their grouping only: it is never sent (Enter must not reload).
  const panelContent = (heading, parts) => [
    heading,
    h("form", { className: "panel-form", onsubmit: (e) => e.preventDefault() }, parts),
  ];

  // --- Side panel: a field -----------------------------------------------------------------------

  function changeType(field, type) {
    if (type === field.type) return;
    if (field.type === "block" && (field.fields || []).length) {
      if (!window.confirm("Changer le type supprime les sous-champs du bloc. Continuer ?")) {
        renderPanel();
        return;
      }
    }
    if (type === "explanation" && !field.text) field.text = field.label || "";
    field.type = type;
    for (const [prop, types] of Object.entries(PROPS_BY_TYPE)) {
      if (prop in field && !types.includes(type)) delete field[prop];
    }
    if (DISPLAY_ONLY.has(type)) {
      delete field.required;
      delete field.help;
      delete field.prefill;
    }
    const allowed = config.validationKeys[type] || [];
    if (isObject(field.validation)) {
      for (const rule of Object.keys(field.validation))
        if (!allowed.includes(rule)) delete field.validation[rule];
      if (!Object.keys(field.validation).length) delete field.validation;
    }
    if (field.prefill && !(config.prefillTypes[field.prefill] || []).includes(type))
      delete field.prefill;
    for (const [prop, value] of Object.entries(defaultsFor(type)))
      if (!(prop in field)) field[prop] = value;
    if (type === "block" && !field.fields.length) field.fields.push(newField("text"));
    announce("Type changé : " + TYPES[type] + ".");
    changed({ panel: true });
  }

  function keyInput(owner, isPage) {
    const warningId = newId("warn");
    const warning = h("p", { className: "field-warning", id: warningId, "aria-live": "polite" });
    let before = owner.key;
    const show = () => {
      warning.textContent = keyProblem(owner.key, owner);
    };
    const wrapper = textInput({
      label: "Identifiant",
      value: owner.key,
      focus: "key",
      help: isPage
        ? "Lettres minuscules sans accent, chiffres et _ ; commence par une lettre."
        : "Le nom de la réponse dans le dossier et dans les conditions : lettres minuscules sans accent, chiffres et _, en commençant par une lettre.",
      describedBy: warningId,
      attrs: { spellcheck: "false", autocomplete: "off", autocapitalize: "none" },
      onInput: (value) => {
        autoKeyed.delete(owner);
        owner.key = value.trim();
        show();
        changed();
      },
      onChange: () => {
        if (!isPage && before && before !== owner.key && !keyProblem(owner.key, owner)) {
          const count = renameReferences(before, owner.key);
          if (count) {
            announce(
              count +
                " condition(s) mises à jour avec le nouvel identifiant « " +
                owner.key +
                " ».",
            );
            changed();
          }
        }
        before = owner.key;
      },
    });
    wrapper.input.addEventListener("focus", () => (before = owner.key));
    wrapper.append(warning);
    show();
    return wrapper;
  }

  function optionsEditor(field) {
    if (!Array.isArray(field.options)) field.options = [];
    const options = field.options;
    const rows = options.map((option, index) => {
      const name = option.label || option.value || "option " + (index + 1);
      const warningId = newId("warn");
      const warning = h("p", { className: "field-warning", id: warningId, "aria-live": "polite" });
      const check = () => {
        const twice = options.filter((o) => o.value === option.value).length > 1;
        warning.textContent = !OPTION_PATTERN.test(option.value || "")
          ? "Valeur invalide : minuscules sans accent, chiffres, _ et - (50 caractères au plus)."
          : twice
            ? "Deux options ont cette valeur."
            : "";
      };
      const valueField = textInput({
        label: "Valeur enregistrée",
        value: option.value,
        focus: "opt:" + index + ":value",
        describedBy: warningId,
        attrs: { spellcheck: "false", autocomplete: "off" },
        onInput: (value) => {
          autoValued.delete(option);
          option.value = value.trim();
          check();
          changed();
        },
      });
      valueField.append(warning);
      check();
      const labelField = textInput({
        label: "Libellé de l'option " + (index + 1),
        value: option.label,
        focus: "opt:" + index + ":label",
        onInput: (value) => {
          option.label = value;
          if (autoValued.has(option)) {
            const taken = new Set(options.filter((o) => o !== option).map((o) => o.value));
            option.value = B.uniqueKey(slugify(value, "option").slice(0, 45), taken);
            valueField.input.value = option.value;
            check();
          }
          changed();
        },
      });
      return h(
        "li",
        { className: "option-row" },
        labelField,
        valueField,
        h(
          "div",
          { className: "row-actions" },
          B.moveButtons(
            "l'option « " + name + " »",
            "opt:" + index,
            index,
            options.length,
            (delta) => moveOption(field, index, delta),
          ),
          smallButton(
            "Retirer",
            "Retirer l'option « " + name + " »",
            "opt:" + index + ":remove",
            () => {
              options.splice(index, 1);
              announce("Option « " + name + " » retirée.");
              changed({ panel: true });
              focusByKey(panel, "opt:" + Math.max(0, index - 1) + ":label") ||
                focusByKey(panel, "opt:add");
            },
          ),
        ),
      );
    });
    return h(
      "fieldset",
      { className: "options-editor" },
      h("legend", {}, "Options proposées"),
      h(
        "p",
        { className: "help" },
        "La valeur enregistrée (minuscules, chiffres, _ et -) est ce que gardent le dossier et les conditions.",
      ),
      h("ol", { className: "options" }, rows),
      smallButton("Ajouter une option", null, "opt:add", () => {
        const taken = new Set(options.map((o) => o.value));
        let n = options.length + 1;
        while (taken.has("option_" + n)) n += 1;
        const option = { value: "option_" + n, label: "Option " + n };
        autoValued.add(option);
        options.push(option);
        announce("Option ajoutée.");
        changed({ panel: true });
        focusByKey(panel, "opt:" + (options.length - 1) + ":label");
      }),
    );
  }

  function moveOption(field, index, delta) {
    const options = field.options;
    const option = options[index];
    const target = B.moveInList(options, index, delta);
    if (target < 0) return;
    announce(
      "Option « " +
        (option.label || option.value) +
        " » déplacée en position " +
        (target + 1) +
        ".",
    );
    changed({ panel: true });
    focusByKey(panel, B.moveFocusKey("opt:" + target, delta));
  }

  function ruleValue(type, rule, raw) {
    const text = raw.trim();
    if (text === "") return "";
    if (rule === "min_length" || rule === "max_length" || type === "integer") {
      return /^-?\d+$/.test(text) ? parseInt(text, 10) : text;
    }
    if (type === "decimal") {
      const normal = text.replace(",", ".");
      return /^-?\d+(\.\d+)?$/.test(normal) ? Number(normal) : text;
    }
    return text;
  }

  function validationEditor(field) {
    const rules = config.validationKeys[field.type];
    if (!rules || !rules.length) return null;
    const current = isObject(field.validation) ? field.validation : {};
    const labels = {
      min_length: "Longueur minimale (caractères)",
      max_length: "Longueur maximale (caractères)",
      pattern: "Motif attendu (expression régulière)",
      pattern_message: "Message pour l'usager si le motif n'est pas respecté",
      min: field.type === "date" || field.type === "datetime" ? "Au plus tôt" : "Minimum",
      max: field.type === "date" || field.type === "datetime" ? "Au plus tard" : "Maximum",
    };
    const inputType = (rule) => {
      if (rule === "min_length" || rule === "max_length" || field.type === "integer")
        return "number";
      if (field.type === "date" && (rule === "min" || rule === "max")) return "date";
      if (field.type === "datetime" && (rule === "min" || rule === "max")) return "datetime-local";
      return "text";
    };
    return h(
      "fieldset",
      {},
      h("legend", {}, "Règles de validation (facultatives)"),
      ["min_length", "max_length", "pattern", "pattern_message", "min", "max"]
        .filter((rule) => rules.includes(rule))
        .map((rule) =>
          textInput({
            label: labels[rule],
            value: current[rule],
            type: inputType(rule),
            focus: "rule:" + rule,
            help:
              rule === "pattern"
                ? "Par exemple [0-9]{5} pour cinq chiffres. Toute la réponse doit correspondre."
                : null,
            attrs:
              field.type === "decimal" && (rule === "min" || rule === "max")
                ? { inputmode: "decimal" }
                : {},
            onInput: (raw) => {
              const rulesNow = isObject(field.validation) ? field.validation : {};
              setOptional(rulesNow, rule, ruleValue(field.type, rule, raw));
              if (Object.keys(rulesNow).length) field.validation = rulesNow;
              else delete field.validation;
              changed();
            },
          }),
        ),
    );
  }

  function fileEditor(field) {
    const accepted = Array.isArray(field.accept) ? field.accept : Object.keys(config.fileTypes);
    return h(
      "fieldset",
      {},
      h("legend", {}, "Pièces jointes"),
      h(
        "fieldset",
        { className: "checkboxes" },
        h("legend", {}, "Types de fichiers acceptés"),
        Object.entries(config.fileTypes).map(([mime, label]) =>
          checkboxInput({
            label: label,
            checked: accepted.includes(mime),
            focus: "accept:" + mime,
            onChange: (checked) => {
              const list = (
                Array.isArray(field.accept) ? field.accept : Object.keys(config.fileTypes)
              ).filter((m) => m !== mime);
              if (checked) list.push(mime);
              field.accept = Object.keys(config.fileTypes).filter((m) => list.includes(m));
              changed();
            },
          }),
        ),
      ),
      textInput({
        label: "Taille maximale par fichier (Mo, de 1 à " + config.maxFileSizeMb + ")",
        type: "number",
        value: field.max_size_mb === undefined ? 10 : field.max_size_mb,
        focus: "max_size_mb",
        attrs: { min: 1, max: config.maxFileSizeMb },
        onInput: (raw) => {
          field.max_size_mb = B.wholeNumberOr(raw);
          changed();
        },
      }),
      checkboxInput({
        label: "Plusieurs fichiers possibles",
        checked: field.multiple,
        focus: "multiple",
        onChange: setTo(field, "multiple"),
      }),
    );
  }

  function blockEditor(field) {
    const number = (name, label) =>
      textInput({
        label,
        type: "number",
        value: field[name],
        focus: name,
        attrs: { min: 0, max: config.maxBlockItems },
        onInput: (raw) => {
          field[name] = B.wholeNumberOr(raw);
          changed();
        },
      });
    return h(
      "fieldset",
      {},
      h("legend", {}, "Répétitions"),
      number("min_items", "Nombre minimum d'éléments"),
      number("max_items", "Nombre maximum d'éléments (au plus " + config.maxBlockItems + ")"),
      textInput({
        label: "Nom d'un élément (ex. Enfant)",
        value: field.item_label,
        focus: "item_label",
        onInput: (value) => {
          setOptional(field, "item_label", value);
          changed();
        },
      }),
      h(
        "p",
        { className: "help" },
        "Les sous-champs du bloc sont listés sous le bloc, dans la structure : modifiez-les, déplacez-les ou ajoutez-en depuis là.",
      ),
    );
  }

  function prefillEditor(field) {
    const sources = Object.entries(config.prefillSources).filter(([source]) =>
      (config.prefillTypes[source] || []).includes(field.type),
    );
    if (!sources.length) return null;
    return selectInput({
      label: "Préremplir avec le compte de l'usager",
      value: field.prefill || "",
      focus: "prefill",
      help: "La valeur est proposée ; l'usager peut la modifier.",
      choices: [["", "Non"]].concat(sources),
      onChange: (value) => {
        setOptional(field, "prefill", value);
        changed();
      },
    });
  }

  function movePageEditor(field) {
    const where = locate(field);
    if (where.block || definition.pages.length < 2) return null;
    return selectInput({
      label: "Page du champ",
      value: String(definition.pages.indexOf(where.page)),
      focus: "page",
      help: "Choisir une autre page y déplace le champ, à la fin.",
      choices: definition.pages.map((page, index) => [
        String(index),
        "Page " + (index + 1) + " : " + pageName(page),
      ]),
      onChange: (value) => {
        const page = definition.pages[parseInt(value, 10)];
        moveFieldTo(field, page.fields, page.fields.length);
        focusByKey(panel, "page");
      },
    });
  }

  function fieldPanel(field) {
    const where = locate(field);
    const answer = hasAnswer(field);
    const heading = panelHeading("Modifier : " + fieldName(field));
    const parts = [];
    if (where.block) {
      parts.push(
        h(
          "p",
          {},
          "Sous-champ du bloc « " + fieldName(where.block) + " ». ",
          smallButton("Revenir au bloc", null, "back", () =>
            edit({ kind: "field", field: where.block }),
          ),
        ),
      );
    }
    parts.push(
      selectInput({
        label: "Type",
        value: field.type,
        focus: "type",
        choices: Object.entries(TYPES).filter(
          ([type]) => !(where.block && (type === "block" || type === "title")),
        ),
        onChange: (type) => changeType(field, type),
      }),
      keyInput(field, false),
    );
    if (field.type === "explanation") {
      parts.push(
        textInput({
          label: "Texte affiché",
          value: field.text,
          multiline: true,
          rows: 5,
          focus: "text",
          help: "Texte simple ; les retours à la ligne sont gardés.",
          onInput: (value) => {
            field.text = value;
            heading.textContent = "Modifier : " + fieldName(field);
            changed();
          },
        }),
      );
    } else {
      parts.push(
        textInput({
          label: field.type === "title" ? "Titre de la section" : "Libellé (la question posée)",
          value: field.label,
          focus: "label",
          onInput: (value) => {
            field.label = value;
            if (autoKeyed.has(field)) {
              field.key = uniqueKey(slugify(value, "champ"), field);
              const keyNode = panel.querySelector('[data-focus="key"]');
              if (keyNode) keyNode.value = field.key;
            }
            heading.textContent = "Modifier : " + fieldName(field);
            changed();
          },
        }),
      );
    }
    if (answer) {
      parts.push(
        textInput({
          label: "Aide (sous le libellé, facultative)",
          value: field.help,
          multiline: true,
          focus: "help",
          onInput: (value) => {
            setOptional(field, "help", value);
            changed();
          },
        }),
        checkboxInput({
          label:
            field.type === "checkbox"
              ? "Obligatoire (la case doit être cochée)"
              : "Réponse obligatoire",
          checked: field.required,
          focus: "required",
          onChange: setTo(field, "required"),
        }),
      );
    }
    if (field.type === "choice" || field.type === "multiple") parts.push(optionsEditor(field));
    if (field.type === "choice") {
      parts.push(
        radioGroup({
          legend: "Présentation",
          value: field.widget || "radio",
          focus: "widget",
          choices: [
            ["radio", "Boutons radio (toutes les options visibles)"],
            ["select", "Liste déroulante (nombreuses options)"],
          ],
          onChange: setTo(field, "widget"),
        }),
      );
    }
    parts.push(validationEditor(field));
    if (field.type === "file") parts.push(fileEditor(field));
    if (field.type === "block") parts.push(blockEditor(field));
    if (!where.block) parts.push(prefillEditor(field));
    parts.push(
      conditionEditor(
        field,
        conditionCandidates({ kind: "field", field }),
        field.type === "title" ? "Condition d'affichage de la section" : "Condition d'affichage",
        false,
      ),
      movePageEditor(field),
      panelActions("Supprimer ce champ", () => removeField(field)),
    );
    return panelContent(heading, parts);
  }

  function pagePanel(page) {
    const heading = panelHeading("Modifier la page : " + pageName(page));
    const parts = [
      textInput({
        label: "Titre de la page",
        value: page.title,
        focus: "title",
        onInput: (value) => {
          page.title = value;
          heading.textContent = "Modifier la page : " + pageName(page);
          changed();
        },
      }),
      keyInput(page, true),
      conditionEditor(
        page,
        conditionCandidates({ kind: "page", page }),
        "Condition d'affichage de la page",
        true,
      ),
      panelActions("Supprimer cette page", () => removePage(page), definition.pages.length < 2),
    ];
    return panelContent(heading, parts);
  }

  // --- Side panel: the condition editor ----------------------------------------------------------

  // The model of the simple editor ("all / any of these comparisons", anything else as JSON) is
  // backoffice-common.js's; what is the form's own: the values' types, the controls for values.

  // The value typed for the comparison: numbers for order comparisons, booleans for yes/no,
  // emails in lowercase (as the answers are kept).
  function typedValue(spec, op, raw) {
    const type = spec ? spec.type : "";
    const text = String(raw);
    if (type === "yesno" || type === "checkbox") return text === "true";
    if (type === "integer" && /^-?\d+$/.test(text.trim())) return parseInt(text, 10);
    if (type === "decimal") {
      const normal = text.trim().replace(",", ".");
      if (/^-?\d+(\.\d+)?$/.test(normal)) return B.ORDER_OPS.includes(op) ? Number(normal) : normal;
    }
    if (
      B.ORDER_OPS.includes(op) &&
      /^-?\d+(\.\d+)?$/.test(text.trim()) &&
      type !== "date" &&
      type !== "datetime" &&
      type !== "text"
    ) {
      return Number(text.trim());
    }
    if (type === "email") return text.trim().toLowerCase();
    return text;
  }

  // A page keeps "condition": null; a field without condition has none.
  function setCondition(owner, isPage, condition) {
    if (isPage) owner.condition = condition;
    else if (condition === null) delete owner.condition;
    else owner.condition = condition;
  }

  function valueControl(leaf, spec, index, update) {
    const focus = "cond:" + index;
    if (leaf.op === "is_empty") return null;
    const options =
      spec && Array.isArray(spec.options)
        ? spec.options.map((o) => [o.value, o.label || o.value])
        : null;
    const booleans =
      spec && (spec.type === "yesno" || spec.type === "checkbox")
        ? [
            ["true", "Oui"],
            ["false", "Non"],
          ]
        : null;
    const known = options || booleans;
    if (leaf.op === "in") {
      const values = Array.isArray(leaf.values) ? leaf.values : [];
      if (known) {
        return h(
          "fieldset",
          { className: "checkboxes" },
          h("legend", {}, "Valeurs"),
          known.map(([value, label]) =>
            checkboxInput({
              label,
              checked: values.some((v) => String(v) === value),
              focus: focus + ":in:" + value,
              onChange: (checked) => {
                const typed = typedValue(spec, "in", value);
                const next = (Array.isArray(leaf.values) ? leaf.values : []).filter(
                  (v) => String(v) !== value,
                );
                if (checked) next.push(typed);
                leaf.values = next;
                update(false);
              },
            }),
          ),
        );
      }
      return kit.conditionValuesInput({ leaf, spec, focus, typedValue, update });
    }
    if (known) {
      const current = leaf.value === undefined ? "" : String(leaf.value);
      const choices = known.slice();
      if (current !== "" && !choices.some(([value]) => value === current))
        choices.unshift([current, current + " (valeur inconnue)"]);
      return selectInput({
        label: "Valeur",
        value: current,
        focus: focus + ":value",
        choices,
        onChange: (raw) => {
          leaf.value = typedValue(spec, leaf.op, raw);
          update(false);
        },
      });
    }
    return kit.conditionValueInput({
      leaf,
      spec,
      focus,
      typedValue,
      update,
      attrs:
        spec && (spec.type === "integer" || spec.type === "decimal")
          ? { inputmode: "decimal" }
          : {},
    });
  }

  function conditionEditor(owner, candidates, legend, isPage) {
    const simple = B.toSimple(owner.condition, OPERATORS);
    const json = kit.conditionJson({
      idKind: "json",
      rows: 6,
      focus: "cond",
      label: "JSON de la condition (vide : toujours affiché)",
      open: !simple,
      onApply: (condition) => {
        setCondition(owner, isPage, condition);
        announce("Condition appliquée.");
        changed({ panel: true });
        focusByKey(panel, "cond:apply");
      },
    });
    const showJson = () =>
      json.show(owner.condition ? JSON.stringify(owner.condition, null, 2) : "");
    showJson();
    const update = (rerender) => {
      if (simple) setCondition(owner, isPage, B.fromSimple(simple));
      showJson();
      changed({ panel: rerender });
    };
    // A new comparison names the last field before: most often the question just asked.
    const newLeaf = () => {
      const spec = candidates[candidates.length - 1];
      return { op: "equals", field: spec ? spec.key : "", value: B.defaultValue(spec) };
    };
    const body = [h("legend", {}, legend)];
    if (!simple) {
      body.push(
        h("p", {}, B.ADVANCED_CONDITION),
        smallButton("Retirer la condition (toujours afficher)", null, "cond:clear", () => {
          setCondition(owner, isPage, null);
          announce("Condition retirée : toujours affiché.");
          changed({ panel: true });
        }),
      );
    } else if (!simple.rows.length) {
      body.push(h("p", {}, isPage ? "Page toujours affichée." : "Toujours affiché."));
      body.push(
        candidates.length
          ? smallButton("Afficher seulement si…", null, "cond:add", () => {
              simple.rows.push(newLeaf());
              update(true);
              announce("Condition ajoutée : choisissez le champ, la comparaison et la valeur.");
              focusByKey(panel, "cond:0:field");
            })
          : h(
              "p",
              { className: "help" },
              "Aucune question avant : une condition ne peut porter que sur une réponse donnée plus haut dans le formulaire.",
            ),
      );
    } else {
      body.push(
        simple.rows.length > 1
          ? kit.conditionJoin(simple, "Afficher quand", "cond", update)
          : h("p", {}, "Afficher seulement si :"),
      );
      simple.rows.forEach((leaf, index) => {
        const spec = specOf(leaf.field);
        const fields = candidates.map((c) => [c.key, fieldName(c) + " (" + c.key + ")"]);
        if (!candidates.some((c) => c.key === leaf.field)) {
          fields.unshift([leaf.field, "« " + leaf.field + " » : introuvable ou placé après"]);
        }
        body.push(
          kit.conditionRow({
            index,
            leaf,
            spec,
            focus: "cond:" + index,
            fields,
            operators: OPERATORS,
            specOf,
            typedValue,
            update,
            value: () => valueControl(leaf, spec, index, update),
            remove: smallButton(
              "Retirer",
              "Retirer la condition " + (index + 1),
              "cond:" + index + ":remove",
              () => {
                simple.rows.splice(index, 1);
                update(true);
                announce("Condition " + (index + 1) + " retirée.");
                focusByKey(panel, "cond:" + Math.max(0, index - 1) + ":field") ||
                  focusByKey(panel, "cond:add");
              },
            ),
          }),
        );
      });
      if (candidates.length) {
        body.push(
          smallButton("Ajouter une condition", null, "cond:more", () => {
            simple.rows.push(newLeaf());
            update(true);
            announce("Condition " + simple.rows.length + " ajoutée.");
            focusByKey(panel, "cond:" + (simple.rows.length - 1) + ":field");
          }),
        );
      }
    }
    body.push(json.node);
    return h("fieldset", { className: "condition-editor" }, body);
  }

  function renderPanel() {
    renderKeepingFocus(panel, null, () => {
      const selection = state.selected;
      const valid =
        selection &&
        ((selection.kind === "page" && definition.pages.includes(selection.page)) ||
          (selection.kind === "field" && locate(selection.field)));
      if (!valid) {
        state.selected = null;
        panel.replaceChildren(
          panelHeading("Modifier"),
          h(
            "p",
            { className: "muted" },
            "Choisissez « Modifier » sur un champ ou une page pour le modifier ici.",
          ),
        );
        return;
      }
      panel.replaceChildren(
        ...(selection.kind === "page" ? pagePanel(selection.page) : fieldPanel(selection.field)),
      );
    });
  }

  function focusPanelHeading() {
    const heading = panel.querySelector("h2");
    if (heading) heading.focus();
  }

  // --- Problems, after a save, preview (saving and publishing are the draft session's) ---------

  function showProblems(problems, title) {
    const heading = problems.length
      ? B.countedTitle(title || "À corriger avant de publier", problems)
      : "Aucun point à corriger : le formulaire peut être publié.";
    B.showProblemList(problemsNode, problems, heading, !problems.length);
  }

  function showSaved(data) {
    const problems = data.problems || [];
    showProblems(problems);
    announce(
      "Brouillon enregistré à " +
        B.clock() +
        " (version " +
        data.version +
        "). " +
        (problems.length
          ? plural(problems.length, "point", "points") + " à corriger avant de publier."
          : "Le formulaire peut être publié."),
    );
  }

  let previewTimer = null;
  let previewSequence = 0;
  function schedulePreview(delay) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, delay === undefined ? 400 : delay);
  }

  async function refreshPreview() {
    const page = currentPage();
    if (!page) return;
    const sequence = ++previewSequence;
    const name = pageName(page);
    try {
      const response = await B.postJson(
        config.urls.preview,
        { definition, page: page.key, index: definition.pages.indexOf(page) },
        "text/html",
      );
      const html = await response.text();
      if (sequence !== previewSequence) return;
      if (!response.ok) {
        previewNote.textContent = "Aperçu indisponible pour le moment.";
        return;
      }
      previewNote.textContent =
        "Page « " +
        name +
        " »" +
        (page.condition ? " — elle n'est montrée que si sa condition est remplie." : "") +
        " Les champs conditionnels apparaissent quand vous répondez dans l'aperçu.";
      previewFrame.title = "Aperçu de la page « " + name + " » telle que les usagers la verront";
      previewFrame.srcdoc = html;
    } catch (error) {
      if (sequence === previewSequence)
        previewNote.textContent = "Aperçu indisponible : le serveur ne répond pas.";
    }
  }

  // Every edit ends here: the structure (and the panel when asked) rendered again, the preview
  // and the draft (dirty note, JSON form, autosave) following.
  function changed(options) {
    const opts = options || {};
    renderStructure();
    if (opts.panel) renderPanel();
    schedulePreview();
    draft.changed();
  }

  // --- Start ------------------------------------------------------------------------------------

  function editable(value) {
    return (
      isObject(value) &&
      Array.isArray(value.pages) &&
      value.pages.every(
        (page) =>
          isObject(page) &&
          (page.fields === undefined || Array.isArray(page.fields)) &&
          (page.fields || []).every(
            (field) =>
              isObject(field) &&
              (field.fields === undefined ||
                (Array.isArray(field.fields) && field.fields.every(isObject))),
          ),
      )
    );
  }

  if (!editable(definition)) {
    announce(
      "Cette définition ne peut pas être modifiée avec l'éditeur visuel : corrigez-la dans le JSON ci-dessous.",
    );
    return;
  }
  definition.pages.forEach((page) => {
    if (!page.fields) page.fields = [];
  });
  if (!definition.pages.length) {
    definition.pages.push({ key: "page_1", title: "Votre demande", condition: null, fields: [] });
  }
  state.page = definition.pages[0];

  draft.start();
  palette.hidden = false;
  panel.hidden = false;
  previewSection.hidden = false;
  palette.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-type]");
    if (button) addField(button.getAttribute("data-add-type"));
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.selected) {
      event.preventDefault();
      closePanel();
    }
  });

  renderStructure();
  renderPanel();
  refreshPreview();
})();
