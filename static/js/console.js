// Keyboard shortcuts for lists marked data-keyboard-list: j/k move, Enter opens,
// "/" jumps to the first filter. Nothing else depends on JavaScript.
(function () {
  "use strict";
  function rows() {
    var table = document.querySelector("[data-keyboard-list]");
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]")) : [];
  }
  var current = -1;
  function select(index) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row, i) { row.classList.toggle("kbd-current", i === current); });
    var link = all[current].querySelector("a");
    if (link) link.focus();
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j") { select(current + 1); event.preventDefault(); }
    else if (event.key === "k") { select(current - 1); event.preventDefault(); }
    else if (event.key === "/") {
      var first = document.querySelector(".filters input, .filters select");
      if (first) { first.focus(); event.preventDefault(); }
    }
  });
})();
// Buttons marked data-action="print" print the page (no inline onclick: the
// Content-Security-Policy allows no inline script).
document.addEventListener("click", function (event) {
  var target = event.target.closest && event.target.closest("[data-action=print]");
  if (target) window.print();
});
// A live count under text boxes marked data-max-chars (the reject reason): the limit is
// checked by the server; the count only says it before sending. The panel is swapped by
// htmx, hence one listener on the document.
document.addEventListener("input", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("textarea[data-max-chars]")) return;
  var counter = document.getElementById(box.id + "-count");
  if (!counter) return;
  var max = parseInt(box.getAttribute("data-max-chars"), 10);
  var length = box.value.length;
  counter.textContent = length.toLocaleString("en") + " of " + max.toLocaleString("en") +
    " characters" + (length > max ? ": too long, shorten it before sending" : "");
  counter.classList.toggle("error", length > max);
});
