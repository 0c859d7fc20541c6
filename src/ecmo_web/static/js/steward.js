// Small progressive enhancements; every page works without JavaScript except the charts.
document.documentElement.classList.add("js");

// On a phone the menu folds behind a "Menu" button (CSS, html.js only: without JavaScript it stays open), so that
// the page opens on the patient, not on the menu; the open-alert counts stay in the bar.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  if (!toggle) return;
  const bar = toggle.closest(".topbar");
  const open = bar.classList.toggle("menu-open");
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
});

// A run's record buttons fold away on a phone (open elsewhere and without JavaScript), for the same reason; a
// tablet turned to landscape, or a window widened, opens them again (their summary line is hidden there).
const phone = window.matchMedia("(max-width: 700px)");
function foldForPhone() {
  document.querySelectorAll("details[data-fold-on-phone]").forEach((details) => {
    details.open = !phone.matches;
  });
}
foldForPhone();
phone.addEventListener("change", foldForPhone);
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
