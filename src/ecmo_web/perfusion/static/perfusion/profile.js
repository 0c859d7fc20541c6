// Role profile: technical and expanded counts per month, as grouped bars on one count axis.
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("profile-chart");
    var src = document.getElementById("profile-data");
    if (!el || !src || typeof uPlot === "undefined") return;
    var months = JSON.parse(src.textContent);
    if (!months.length) return;
    var xs = months.map(function (_, i) { return i; });
    var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.4, 40], align: 0 }) : null;
    var max = Math.max(1, Math.max.apply(null, months.map(function (m) { return Math.max(m.technical, m.expanded); })));
    var width = Math.max(300, el.clientWidth || 600);
    new uPlot({
      width: width,
      height: width < 500 ? 220 : 280,
      scales: { x: { time: false, range: [-0.6, months.length - 0.4] }, y: { range: [0, Math.ceil(max * 1.15)] } },
      axes: [
        { values: function (u, ticks) { return ticks.map(function (t) { return months[t] ? months[t].month : ""; }); }, splits: function () { return xs; } },
        { label: "Records" },
      ],
      series: [
        { label: "Month", value: function (u, v) { return v == null || !months[v] ? "" : months[v].month; } },
        { label: "Technical", stroke: "#0a7c86", fill: "rgba(10,124,134,0.55)", paths: bars, points: { show: false } },
        { label: "Expanded", stroke: "#8250df", fill: "rgba(130,80,223,0.55)", paths: bars ? uPlot.paths.bars({ size: [0.4, 40], align: 1 }) : null, points: { show: false } },
      ],
    }, [xs, months.map(function (m) { return m.technical; }), months.map(function (m) { return m.expanded; })], el);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
