/* A démarche's page in the citizen's browser. Everything here is an addition: without
   JavaScript the page works as it is (conditions evaluated by the server, files sent with the
   page, "Enregistrer le brouillon" to save).
   - Live conditions: fields appear and disappear as the person answers. The server decides the
     same way (grc/demarches/answers.py); both use the same evaluator (conditions.js, tested
     against the shared vectors).
   - Automatic saving of the draft, in the background, a few seconds after the last change and
     when the page is left (grc/portal/filing/live.py).
   - Files sent as soon as they are chosen, with a progress bar; a file can be taken back.
   - The error summary takes the focus; "Envoyer" sends once. */
(function () {
  "use strict";

  // The error summary at the top of a page takes the focus, so that it is read first.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // One click sends once: the summary's "Envoyer" button (data-once) disables itself.
  document.querySelectorAll("form button[data-once]").forEach(function (button) {
    var label = button.textContent;
    button.form.addEventListener("submit", function (event) {
      if (button.form.dataset.sending) { event.preventDefault(); return; }
      button.form.dataset.sending = "1";
      // Disabled after the submission has started: a disabled button would not be sent.
      window.setTimeout(function () {
        button.disabled = true;
        if (button.dataset.sending) button.textContent = button.dataset.sending;
      }, 0);
    });
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;  // back to the page from the history: usable again
      delete button.form.dataset.sending;
      button.disabled = false;
      button.textContent = label;
    });
  });

  var form = document.querySelector("form.demarche-form");
  if (!form) return;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var texts = (document.getElementById("upload-texts") || {dataset: {}}).dataset;

  function format(text, values) {
    return (text || "").replace(/%\((\w+)\)s/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  // --- Live conditions ----------------------------------------------------------------------

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
    return !condition || !window.GrcConditions ||
      window.GrcConditions.evaluate(JSON.parse(condition), context);
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
    if (!window.GrcConditions) return;
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

  // --- Automatic saving ---------------------------------------------------------------------

  var status = document.getElementById("autosave-status");
  var saveUrl = form.dataset.autosaveUrl;
  var dirty = false, saving = false, again = false, submitting = false, timer = null;
  var DELAY = 2000;

  // The page's answers without the chosen files (they go with the upload below, or with a
  // real sending of the page).
  function answers() {
    var data = new FormData(form);
    form.querySelectorAll("input[type=file]").forEach(function (i) { data.delete(i.name); });
    return data;
  }

  function say(text, link) {
    if (!status) return;
    if (status.textContent === text && !link) return;  // the same words are not said again
    status.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link; a.textContent = status.dataset.login;
      status.appendChild(document.createTextNode(" "));
      status.appendChild(a);
    }
  }

  function answered(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      return {ok: response.ok, status: response.status, body: body};
    });
  }

  function save() {
    window.clearTimeout(timer);
    if (!saveUrl || submitting) return;
    if (saving) { again = true; return; }
    saving = true; dirty = false;
    fetch(saveUrl, {method: "POST", body: answers(), credentials: "same-origin",
                    headers: {"Accept": "application/json"}})
      .then(answered)
      .then(function (reply) {
        if (reply.ok) say(reply.body.message);
        else if (reply.status === 401) say((reply.body.errors || [""])[0], reply.body.login_url);
        else { dirty = true; say(status && status.dataset.failed); }
      })
      .catch(function () { dirty = true; say(status && status.dataset.failed); })
      .then(function () {
        saving = false;
        if (held) {
          var button = held === true ? undefined : held;
          held = null; again = false;
          form.requestSubmit(button);
        } else if (again) { again = false; save(); }
      });
  }

  function changed(event) {
    if (event && event.target && event.target.type === "file") return;
    dirty = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(save, DELAY);
  }

  // Leaving the page (another tab, closing, the phone's screen off): what is not saved yet
  // goes now; sendBeacon outlives the page.
  function leave() {
    if (!dirty || submitting || !saveUrl) return;
    dirty = false;
    window.clearTimeout(timer);
    if (navigator.sendBeacon && navigator.sendBeacon(saveUrl, answers())) return;
    fetch(saveUrl, {method: "POST", body: answers(), credentials: "same-origin",
                    keepalive: true}).catch(function () {});
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leave();
  });
  window.addEventListener("pagehide", leave);

  // --- Files --------------------------------------------------------------------------------

  function post(url, data, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", "application/json");
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) onProgress(Math.round(100 * event.loaded / event.total));
        });
      }
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: a proxy's page */ }
        resolve({ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, body: body});
      });
      xhr.addEventListener("error", function () { resolve({ok: false, status: 0, body: {}}); });
      xhr.send(data);
    });
  }

  function withToken(fields) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf ? csrf.value : "");
    Object.keys(fields).forEach(function (k) { data.append(k, fields[k]); });
    return data;
  }

  // The field's own status line (polite), made on first use.
  function fieldStatus(wrapper) {
    var line = wrapper.querySelector(".upload-status");
    if (!line) {
      line = document.createElement("p");
      line.className = "upload-status";
      line.setAttribute("role", "status");
      wrapper.appendChild(line);
    }
    return line;
  }

  // Errors shown on the field and named by its input (aria-describedby, aria-invalid).
  function showErrors(wrapper, input, messages) {
    var id = input.id + "_errors";
    var list = document.getElementById(id);
    if (!messages.length) {
      if (list) list.remove();
      input.removeAttribute("aria-invalid");
      wrapper.classList.remove("field--error");
      input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "")
        .split(" ").filter(function (t) { return t && t !== id; }).join(" "));
      return;
    }
    if (!list) {
      list = document.createElement("ul");
      list.className = "errors"; list.id = id;
      var help = document.getElementById(input.id + "_help");
      (help || input).insertAdjacentElement(help ? "afterend" : "beforebegin", list);
    }
    list.innerHTML = "";
    messages.forEach(function (m) {
      var li = document.createElement("li"); li.textContent = m; list.appendChild(li);
    });
    var described = (input.getAttribute("aria-describedby") || "").split(" ");
    if (described.indexOf(id) < 0) described.push(id);
    input.setAttribute("aria-describedby", described.join(" ").trim());
    input.setAttribute("aria-invalid", "true");
    wrapper.classList.add("field--error");
  }

  function attachmentList(wrapper, input) {
    var list = wrapper.querySelector("ul.attachments");
    if (!list) {
      list = document.createElement("ul");
      list.className = "attachments";
      input.insertAdjacentElement("beforebegin", list);
    }
    return list;
  }

  function nameOf(item) {
    return item.dataset.name || item.textContent.trim();
  }

  // A "Retirer" button on a file already joined.
  function removable(wrapper, item) {
    if (item.querySelector("button.remove-file")) return;
    var box = item.querySelector("input[type=checkbox]");
    if (!box) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button-link remove-file";
    button.textContent = texts.remove || "Retirer";
    var label = item.querySelector("label");
    button.setAttribute("aria-label", (texts.remove || "Retirer") + " " + nameOf(item));
    (label || box).insertAdjacentElement("afterend", button);
    button.addEventListener("click", function () { detach(wrapper, item, true); });
  }

  function detach(wrapper, item, announce) {
    var box = item.querySelector("input[type=checkbox]");
    var name = nameOf(item);
    var done = function () {
      item.remove();
      if (announce) fieldStatus(wrapper).textContent = format(texts.removed, {name: name});
      refresh();
      changed();
      save();
    };
    if (!box || !form.dataset.uploadUrl) { done(); return; }
    post(form.dataset.uploadUrl + box.value + "/retirer/", withToken({})).then(done);
  }

  function upload(wrapper, input, file) {
    var bar = document.createElement("div");
    bar.className = "upload-progress";
    var progress = document.createElement("progress");
    progress.max = 100; progress.value = 0;
    progress.setAttribute("aria-label", format(texts.sending, {name: file.name}));
    var percent = document.createElement("span");
    percent.textContent = format(texts.progress, {name: file.name, percent: 0});
    bar.appendChild(progress); bar.appendChild(percent);
    input.insertAdjacentElement("afterend", bar);
    var data = withToken({field: wrapper.dataset.key});
    data.append("file", file);
    return post(form.dataset.uploadUrl, data, function (value) {
      progress.value = value;
      percent.textContent = format(texts.progress, {name: file.name, percent: value});
    }).then(function (reply) {
      bar.remove();
      if (reply.ok) {
        var list = attachmentList(wrapper, input);
        if (!input.multiple) {
          list.querySelectorAll("li").forEach(function (old) { detach(wrapper, old, false); });
        }
        var item = document.createElement("li");
        item.dataset.name = reply.body.name;
        var label = document.createElement("label");
        var box = document.createElement("input");
        box.type = "checkbox"; box.name = wrapper.dataset.key; box.value = reply.body.id;
        box.checked = true;
        label.appendChild(box);
        label.appendChild(document.createTextNode(
          " " + reply.body.name + " (" + reply.body.size + ")"));
        item.appendChild(label);
        list.appendChild(item);
        removable(wrapper, item);
        fieldStatus(wrapper).textContent = format(texts.done, {name: reply.body.name});
        return true;
      }
      if (reply.status === 0) {  // no answer: the file stays chosen and goes with the page
        fieldStatus(wrapper).textContent = texts.failed;
        return false;
      }
      var messages = reply.body.errors || [texts.failed];
      showErrors(wrapper, input, messages);
      fieldStatus(wrapper).textContent = messages.join(" ");
      if (reply.status === 401) say(messages[0], reply.body.login_url);
      return null;
    });
  }

  function chosen(input) {
    var wrapper = input.closest(".field--file");
    if (!wrapper || !form.dataset.uploadUrl || !input.files.length) return;
    var files = Array.prototype.slice.call(input.files, 0, input.multiple ? undefined : 1);
    showErrors(wrapper, input, []);
    var results = [];
    var chain = Promise.resolve();
    files.forEach(function (file) {
      chain = chain.then(function () {
        return upload(wrapper, input, file).then(function (r) { results.push(r); });
      });
    });
    chain.then(function () {
      // Sent (or refused): nothing left to send with the page. Kept when the network failed.
      if (results.indexOf(false) < 0) input.value = "";
      refresh();
      changed();
      save();
    });
  }

  form.querySelectorAll(".field--file").forEach(function (wrapper) {
    fieldStatus(wrapper);  // present before it speaks, so that it is heard
    wrapper.querySelectorAll("ul.attachments li").forEach(function (item) {
      removable(wrapper, item);
    });
  });

  // --- Events -------------------------------------------------------------------------------

  form.addEventListener("input", function (event) { refresh(); changed(event); });
  form.addEventListener("change", function (event) {
    refresh();
    if (event.target.type === "file") chosen(event.target);
    else changed(event);
  });
  // One click sends once; a real sending makes the background saving pointless. A background
  // save still on its way is let through first, so that it cannot land after the page.
  var held = null;
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (form.dataset.sending && button && button.value === "next") {
      event.preventDefault();
      return;
    }
    window.clearTimeout(timer);
    if (saving) {
      event.preventDefault();
      held = button || true;
      return;
    }
    form.dataset.sending = "1";
    submitting = true;
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { delete form.dataset.sending; submitting = false; }
  });
  refresh();
})();
