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

// The mapper re-checks a row on every change, so on a slow server two requests of the step can overlap:
// only the answer to the newest one replaces the step, and a late answer to an older re-check never undoes
// a choice made since (the newer request carries all of them). Requests are not aborted: the server has
// seen them anyway, and an abort is reported as an error. The preview's own polling (it targets its block,
// not the step) is left alone, so a poll never hides the answer to "Run sync".
var stepRequests = 0;
document.addEventListener("htmx:beforeRequest", function (event) {
  var target = event.detail && event.detail.target;
  if (target && target.id === "wizard-step") event.detail.xhr.stepRequest = ++stepRequests;
});
document.addEventListener("htmx:beforeSwap", function (event) {
  var number = event.detail.xhr && event.detail.xhr.stepRequest;
  if (number && number < stepRequests) event.detail.shouldSwap = false;
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
