// Small behaviours of the pages, here rather than in inline handlers: the Content-Security-Policy runs
// scripts from this site's files only (no onclick, no hx-on, no javascript: links).

// <button data-copy-from="id">: copy that field's value to the clipboard.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-from]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-copy-from"));
  if (!field) return;
  field.select();
  var copied = navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.reject();
  copied.catch(function () { document.execCommand("copy"); });
  button.textContent = "Copied";
});

// <button type="submit" data-confirm="Question?">: submit only if the user confirms.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
});

// <a data-history-back href="fallback">: back to the previous page, if there is one.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-history-back]");
  if (link && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});

// <select data-searchable="Search time zones">: a search box above a long list; typing keeps the options
// whose label contains the words (any order) and picks the first of them. The select works without it.
function addSelectSearch(root) {
  root.querySelectorAll("select[data-searchable]:not([data-search-ready])").forEach(function (select) {
    select.setAttribute("data-search-ready", "");
    var box = document.createElement("input");
    box.type = "search";
    box.className = "select-search";
    box.placeholder = select.getAttribute("data-searchable");
    box.setAttribute("aria-label", select.getAttribute("data-searchable"));
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var words = box.value.toLowerCase().replace(/[\s_]+/g, " ").trim().split(" ").filter(Boolean);
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var label = option.textContent.toLowerCase().replace(/_/g, " ");
        var shown = words.every(function (w) { return label.indexOf(w) !== -1; });
        option.hidden = !shown;
        if (shown && first === null) first = option;
      });
      select.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      if (first && (select.selectedOptions[0] || {}).hidden !== false) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { addSelectSearch(document); });
document.addEventListener("htmx:load", function (event) { addSelectSearch(event.target); });

// A .table-scroll whose table is wider than the screen scrolls sideways: it takes the keyboard's focus
// (Tab, then the arrow keys), so the hidden columns are reachable.
function markScrollingTables(root) {
  root.querySelectorAll(".table-scroll").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", "Table (scrolls sideways)");
    } else if (box.getAttribute("role") === "region") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  });
}
document.addEventListener("DOMContentLoaded", function () { markScrollingTables(document); });
document.addEventListener("htmx:load", function () { markScrollingTables(document); });
window.addEventListener("resize", function () { markScrollingTables(document); });
