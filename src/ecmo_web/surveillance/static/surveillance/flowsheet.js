// Flowsheet: on today's sheet, scroll the grid (not the page) so that the current hour is in view, with a few
// earlier hours to its left; the parameter column stays where it is (sticky).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var wrap = document.querySelector(".fs-wrap"), now = document.querySelector(".fs-grid th.fs-now");
    var label = document.querySelector(".fs-grid thead th.fs-param");
    if (!wrap || !now || !label) return;
    var visible = wrap.clientWidth - label.offsetWidth;
    wrap.scrollLeft = Math.max(0, now.offsetLeft - label.offsetWidth - Math.max(0, visible - 2 * now.offsetWidth));
  });
})();
