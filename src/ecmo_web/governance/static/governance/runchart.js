// QI run charts: the measure's points joined in time order, the median as a dashed line, and the points that
// belong to a shift or a trend drawn as large red diamonds (their dates are also listed under the chart in words).
// Data: a <script type="application/json" id="runchart-N"> written by the page, read by the <div data-chart>.
(function () {
  "use strict";
  var charts = [];

  function fmt(v) {
    if (v === null || v === undefined) return "—";
    var a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }

  function dayToSeconds(iso) { return Date.parse(iso + "T12:00:00Z") / 1000; }

  function build(holder) {
    var data = JSON.parse(document.getElementById(holder.dataset.chart).textContent);
    var xs = data.dates.map(dayToSeconds);
    var flagged = {};
    data.flagged.forEach(function (i) { flagged[i] = true; });
    var signal = data.values.map(function (v, i) { return flagged[i] ? v : null; });
    var median = data.values.map(function () { return data.median; });
    var pad = 86400 * 3;
    var opts = {
      width: Math.max(280, holder.clientWidth), height: holder.clientWidth < 500 ? 240 : 300,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "UTC"); },
      scales: { x: { time: true, range: function (u, min, max) { return [min - pad, max + pad]; } } },
      axes: [
        { stroke: "#14212b", grid: { stroke: "#e3e8ec" }, values: "{D} {MMM}\n{YYYY}" },
        { stroke: "#14212b", grid: { stroke: "#e3e8ec" }, size: 56, label: data.unit || "",
          values: function (u, vals) { return vals.map(fmt); } }
      ],
      series: [
        { label: "Period", value: function (u, v) { return v == null ? "—" : uPlot.fmtDate("{YYYY}-{MM}-{DD}")(uPlot.tzDate(new Date(v * 1e3), "UTC")); } },
        { label: "Value", stroke: "#0b5cad", width: 2, points: { show: true, size: 7, fill: "#0b5cad" },
          value: function (u, v) { return fmt(v); } },
        { label: "Median", stroke: "#5b6b78", width: 1.5, dash: [8, 6], points: { show: false },
          value: function () { return fmt(data.median); } },
        { label: "Shift or trend", stroke: "#b3161b", width: 0, paths: function () { return null; },
          points: { show: true, size: 13, width: 2, stroke: "#b3161b", fill: "#fde4e4" },
          value: function (u, v) { return v == null ? "—" : fmt(v); } }
      ],
      legend: { live: true }
    };
    holder.innerHTML = "";
    charts.push({ plot: new uPlot(opts, [xs, data.values, median, signal], holder), holder: holder });
  }

  function resize() {
    charts.forEach(function (c) { c.plot.setSize({ width: Math.max(280, c.holder.clientWidth), height: c.plot.height }); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(build);
    var t;
    window.addEventListener("resize", function () { clearTimeout(t); t = setTimeout(resize, 150); });
  });
})();
