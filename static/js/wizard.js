// After htmx swaps a wizard step in place, put the focus where the user has to act: the first field
// with a problem, else the step's question (so screen readers and keyboards do not start over at the top).
document.addEventListener("htmx:afterSettle", function (event) {
  var step = document.getElementById("wizard-step");
  if (!step || !step.contains(event.target) && event.target !== step) return;
  var target = step.querySelector('[aria-invalid="true"], .form-errors') || step.querySelector("#step-question");
  if (!target) return;
  if (!target.matches("input, select, textarea, button")) target.setAttribute("tabindex", "-1");
  target.focus();
});
