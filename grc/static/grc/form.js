/* Live conditions on a démarche's page: fields appear and disappear as the person answers.
   The server decides the same way without JavaScript (grc/demarches/answers.py); both use the
   same condition evaluator (conditions.js, tested against the shared vectors). */
(function () {
  "use strict";
  var form = document.querySelector("form.demarche-form");
  if (!form || !window.GrcConditions) return;
  var contextNode = document.getElementById(form.dataset.contextId);
  var prior = contextNode ? JSON.parse(contextNode.textContent) : {};

  function number(text) {
    var cleaned = text.replace(/\s/g, "").replace(",", ".");
    return /^-?[0-9]+(\.[0-9]+)?$/.test(cleaned) ? cleaned : null;
  }

  // The JSON value of one field, as the server would keep it (docs/form-definition.md).
  function valueOf(wrapper) {
    var type = wrapper.dataset.type;
    var inputs = wrapper.querySelectorAll("input, select, textarea");
    if (type === "yesno") {
      var picked = wrapper.querySelector("input:checked");
      return picked ? picked.value === "true" : null;
    }
    if (type === "checkbox") return inputs[0].checked;
    if (type === "multiple") {
      var values = [];
      wrapper.querySelectorAll("input:checked").forEach(function (i) { values.push(i.value); });
      return values.length ? values : null;
    }
    if (type === "choice") {
      var select = wrapper.querySelector("select");
      if (select) return select.value || null;
      var radio = wrapper.querySelector("input:checked");
      return radio ? radio.value : null;
    }
    if (type === "file") {
      var kept = wrapper.querySelectorAll("input[type=checkbox]:checked").length;
      var chosen = wrapper.querySelector("input[type=file]");
      return kept || (chosen && chosen.files.length) ? [0] : null;
    }
    if (type === "address") {
      var parts = Array.prototype.map.call(inputs, function (i) { return i.value.trim(); });
      return parts.some(Boolean) ? {address_line1: parts[0], address_line2: parts[1],
        postal_code: parts[2], city: parts[3], country: parts[4] || "FR"} : null;
    }
    var raw = inputs.length ? inputs[0].value.trim() : "";
    if (raw === "") return null;
    if (type === "integer") return /^-?[0-9]+$/.test(raw) ? parseInt(raw, 10) : raw;
    if (type === "decimal") return number(raw) || raw;
    if (type === "email") return raw.toLowerCase();
    return raw;
  }

  function evaluate(node, context) {
    var condition = node.dataset.condition;
    return !condition || window.GrcConditions.evaluate(JSON.parse(condition), context);
  }

  // Walk one level of fields in order, as the server does: a hidden field neither shows nor
  // counts in the conditions after it; a section title hides its section.
  function walk(nodes, context, prefix) {
    var sectionShown = true;
    nodes.forEach(function (node) {
      var type = node.dataset.type;
      if (type === "title") {
        sectionShown = evaluate(node, context);
        node.hidden = !sectionShown;
        return;
      }
      var shown = sectionShown && evaluate(node, context);
      node.hidden = !shown;
      if (!shown || !node.dataset.key) return;  // explanations hold no answer
      if (type === "block") {
        node.querySelectorAll(".block-item").forEach(function (item) {
          walk(children(item), Object.assign({}, context),
               node.dataset.key + "__" + item.dataset.index + "__");
        });
        return;
      }
      var value = valueOf(node);
      if (value !== null) context[node.dataset.key.replace(prefix, "")] = value;
    });
  }

  function children(parent) {
    return Array.prototype.filter.call(parent.children, function (c) { return c.dataset.type; });
  }

  function refresh() {
    walk(children(form), Object.assign({}, prior), "");
    // Tell the server what was on screen, so that it does not re-show the page for nothing.
    form.querySelectorAll("input[name=_shown]").forEach(function (i) { i.remove(); });
    form.querySelectorAll("[data-key]:not([hidden])").forEach(function (node) {
      if (node.closest("[hidden]")) return;
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "_shown"; input.value = node.dataset.key;
      form.appendChild(input);
    });
  }

  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  // One click sends once.
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (form.dataset.sending && button && button.value === "next") event.preventDefault();
    form.dataset.sending = "1";
  });
  refresh();
})();
