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
