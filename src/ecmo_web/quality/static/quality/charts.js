// Quality charts: one small uPlot chart per KPI tile (the KPI per month, week or day of the chosen period) and the
// compliance-over-time chart of an audit (with its standard as a dashed line). Data come from json_script blocks.
(function () {
  "use strict";

  function fmt(v, unit) {
    if (v === null || v === undefined) return "—";
    if (unit === "fraction" || unit === "%") return v.toFixed(0) + " %";
    var a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }

  function width(el) {
    return Math.max(200, Math.floor(el.getBoundingClientRect().width));
  }

  function kpiChart(el, series) {
    var opts = {
      width: width(el),
      height: 120,
      legend: { show: false },
      cursor: { points: { size: 6 } },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [Math.min(0, min || 0), (max || 1) * 1.1 || 1]; } } },
      axes: [
        { size: 28, font: "11px system-ui, sans-serif", values: function (u, splits) { return splits.map(function (s) { var d = new Date(s * 1000); return d.toLocaleDateString(undefined, { day: "numeric", month: "short" }); }); } },
        { size: 56, font: "11px system-ui, sans-serif", values: function (u, splits) { return splits.map(function (s) { return fmt(s, series.unit === "fraction" ? "%" : series.unit); }); } }
      ],
      series: [
        {},
        { label: series.label, stroke: "#1f5fa8", width: 2, fill: "rgba(31,95,168,0.08)", points: { show: true, size: 4 }, spanGaps: false,
          value: function (u, v) { return fmt(v, series.unit === "fraction" ? "%" : series.unit); } }
      ]
    };
    return new uPlot(opts, [series.x, series.y], el);
  }

  function auditChart(el, data) {
    var standard = data.x.map(function () { return data.standard; });
    var opts = {
      width: width(el),
      height: 200,
      scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [
        { values: function (u, splits) { return splits.map(function (s) { return new Date(s * 1000).toLocaleDateString(undefined, { day: "numeric", month: "short" }); }); } },
        { size: 56, values: function (u, splits) { return splits.map(function (s) { return s + " %"; }); } }
      ],
      series: [
        {},
        { label: "Compliance", stroke: "#1f5fa8", width: 2, points: { show: true, size: 6 } },
        { label: "Standard", stroke: "#b3261e", dash: [6, 4], width: 1.5, points: { show: false } }
      ]
    };
    return new uPlot(opts, [data.x, data.y, standard], el);
  }

  function start() {
    if (typeof uPlot === "undefined") return;
    var charts = [];
    var kpiData = document.getElementById("kpi-series");
    if (kpiData) {
      var byKey = {};
      JSON.parse(kpiData.textContent).forEach(function (s) { byKey[s.key] = s; });
      document.querySelectorAll(".q-kpi-chart").forEach(function (el) {
        var s = byKey[el.dataset.key];
        if (s) charts.push([el, kpiChart(el, s)]);
      });
    }
    var auditData = document.getElementById("audit-series");
    var auditEl = document.getElementById("audit-chart");
    if (auditData && auditEl) charts.push([auditEl, auditChart(auditEl, JSON.parse(auditData.textContent))]);
    window.addEventListener("resize", function () {
      charts.forEach(function (pair) { pair[1].setSize({ width: width(pair[0]), height: pair[1].height }); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
