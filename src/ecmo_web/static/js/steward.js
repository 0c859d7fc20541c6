// Small progressive enhancements; every page works without JavaScript except the charts.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});

// Print buttons (no inline handlers: the Content-Security-Policy allows scripts from this origin only).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
