/*
 * The queues' "select all" box: ticks or unticks every dossier of the page for the bulk
 * actions. Without JavaScript, each dossier's box still works on its own.
 */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
    const form = box.form || document;
    form.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]').forEach(
      function (item) {
        item.checked = box.checked;
      }
    );
  });
})();
