// Small progressive enhancements; every page works without JavaScript except the charts.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});

// Print buttons (no inline handlers: the Content-Security-Policy allows scripts from this origin only).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// The timeline opens at "now" (issue 11 §7): on a screen narrower than the run, the timeline scrolls inside its
// own box; start it at its right-hand end, where the present is.
function timelinesToNow(root) {
  root.querySelectorAll(".timeline").forEach((timeline) => {
    timeline.scrollLeft = timeline.scrollWidth;
  });
}
timelinesToNow(document);
document.addEventListener("htmx:afterSwap", (event) => timelinesToNow(event.target));
