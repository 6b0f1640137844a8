// After htmx swaps a wizard step in place, put the focus where the user has to act: the row just added
// (data-autofocus), else the field whose change re-checked the step (the mapper re-checks a pair's types on
// every change), else the first field with a problem, else the step's question (so screen readers and
// keyboards do not start over at the top).
var changedField = null;
document.addEventListener("htmx:beforeRequest", function (event) {
  var active = document.activeElement;
  changedField = active && active.name && !active.matches("button") ? active.name : null;
});
document.addEventListener("htmx:afterSettle", function (event) {
  var step = document.getElementById("wizard-step");
  if (!step || !step.contains(event.target) && event.target !== step) return;
  var refused = event.detail && event.detail.xhr && event.detail.xhr.status === 422;
  var changed = changedField && !refused ? step.querySelector('[name="' + CSS.escape(changedField) + '"]') : null;
  var target = step.querySelector("[data-autofocus]") || changed ||
    step.querySelector('[aria-invalid="true"], .form-errors') || step.querySelector("#step-question");
  changedField = null;
  if (!target) return;
  if (!target.matches("input, select, textarea, button")) target.setAttribute("tabindex", "-1");
  target.focus();
});

// The mapper re-checks a row on every change, so on a slow server the step's requests can overlap. An
// answer replaces the step only if no newer request of the step was sent and no re-checking field changed
// since it was sent (htmx queues that field's next request until this one ends: it then goes out with every
// choice); text typed meanwhile is put back after the swap. So a late answer never undoes a choice. The
// preview's own polling (it targets its block, not the step) is left alone.
var stepRequests = 0, recheckChanges = 0, typedSince = {};
document.addEventListener("change", function (event) {
  if (event.target.hasAttribute && event.target.hasAttribute("hx-post")) recheckChanges++;
}, true);  // capture: counted before htmx's own listener sends the request
document.addEventListener("input", function (event) {
  var field = event.target;
  if (field.name && field.matches("input:not([type=checkbox]):not([type=radio]), textarea") &&
      field.closest("#wizard-step")) typedSince[field.name] = field.value;
});
document.addEventListener("htmx:beforeRequest", function (event) {
  var target = event.detail && event.detail.target;
  if (!target || target.id !== "wizard-step") return;
  event.detail.xhr.stepRequest = ++stepRequests;
  event.detail.xhr.recheckChanges = recheckChanges;
  typedSince = {};  // this request carries what was typed so far
});
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr && xhr.stepRequest && (xhr.stepRequest < stepRequests || xhr.recheckChanges < recheckChanges)) {
    event.detail.shouldSwap = false;
  }
});
document.addEventListener("htmx:afterSwap", function (event) {
  var step = document.getElementById("wizard-step");
  if (!step) return;
  Object.keys(typedSince).forEach(function (name) {
    var field = step.querySelector('[name="' + CSS.escape(name) + '"]');
    if (field) field.value = typedSince[name];
  });
  typedSince = {};
});

// A date row of the mapper (and the event time) asks what the numbers of its column are, unless the
// chosen column's kind is a date or a timestamp: the kinds are those of the datalist #model-columns.
function showDateUnit(field) {
  if (!field.id) return;
  var box = document.querySelector('[data-date-unit-for="' + CSS.escape(field.id) + '"]');
  if (!box) return;
  var name = field.value.trim();
  var kind = "";
  document.querySelectorAll("#model-columns option").forEach(function (option) {
    if (option.value === name) kind = option.textContent.trim();
  });
  var isDate = name !== "" && (box.getAttribute("data-date-kinds") || "").split(" ").indexOf(kind) >= 0;
  box.querySelector(".unit-choice").hidden = isDate;
  box.querySelector(".unit-none").hidden = !isDate;
}
document.addEventListener("input", function (event) { showDateUnit(event.target); });
document.addEventListener("change", function (event) { showDateUnit(event.target); });
