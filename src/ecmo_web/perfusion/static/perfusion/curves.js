// Cannula pressure drop against flow: one line per cannula, straight between the maker's points from (0, 0).
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("cannula-curves");
    var src = document.getElementById("cannula-curves-data");
    if (!el || !src || typeof uPlot === "undefined") return;
    var curves = JSON.parse(src.textContent);
    var tables = curves.map(function (c) {
      var pts = [[0, 0]].concat(c.points.slice().sort(function (a, b) { return a[0] - b[0]; }));
      return [pts.map(function (p) { return p[0]; }), pts.map(function (p) { return p[1]; })];
    });
    var data = uPlot.join(tables);
    var palette = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7c86", "#57606a", "#e16f24", "#2da44e"];
    var series = [{ label: "Flow (L/min)" }].concat(curves.map(function (c, i) {
      return { label: c.label, stroke: palette[i % palette.length], width: 2, spanGaps: true, points: { show: true, size: 5 } };
    }));
    var width = Math.max(300, el.clientWidth || 600);
    new uPlot({
      width: width,
      height: width < 500 ? 260 : 340,
      scales: { x: { time: false } },
      axes: [{ label: "Blood flow (L/min)" }, { label: "Pressure drop (mmHg)" }],
      series: series,
    }, data, el);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
