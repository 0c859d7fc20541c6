// Trends page: one uPlot chart per parameter group on a shared, synchronised time axis, with vertical markers for
// alerts, component changes and circuit checks. Data: /runs/<id>/trends/data.json?range=1h|6h|24h|run.
(function () {
  "use strict";
  var root, charts = [], syncing = false, current = null;
  var dpr = window.devicePixelRatio || 1;
  var TONES = { critical: "#b3161b", warning: "#d08400", info: "#0f2740" };

  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (v === 0) return "0";
    var a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }

  function markerPlugin(markers, withLabels) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx, b = u.bbox, labelEnd = -Infinity, row = 0;
          ctx.save();
          markers.forEach(function (m) {
            var x = Math.round(u.valToPos(m.t, "x", true));
            if (x < b.left || x > b.left + b.width) return;
            if (m.kind === "check") {
              ctx.strokeStyle = "#90a4ae"; ctx.lineWidth = dpr; ctx.setLineDash([]);
              ctx.beginPath(); ctx.moveTo(x, b.top + b.height - 7 * dpr); ctx.lineTo(x, b.top + b.height); ctx.stroke();
              return;
            }
            var colour = m.kind === "alert" ? (TONES[m.tone] || TONES.warning) : TONES.info;
            ctx.strokeStyle = colour; ctx.lineWidth = 2 * dpr;
            ctx.setLineDash(m.kind === "component" ? [6 * dpr, 4 * dpr] : []);
            ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
            if (withLabels) {
              // Labels on the first chart only, on two staggered rows; one that would overlap is left out (the list
              // above the charts names every marker).
              ctx.setLineDash([]);
              ctx.font = (12 * dpr) + "px system-ui, sans-serif";
              var w = ctx.measureText(m.label).width;
              var lx = x + 4 * dpr + w > b.left + b.width ? x - 4 * dpr - w : x + 4 * dpr;
              row = lx > labelEnd ? 0 : row + 1;
              if (row > 1) return;
              if (row === 0) labelEnd = lx + w + 8 * dpr;
              var ly = b.top + (14 + row * 16) * dpr;
              ctx.fillStyle = "rgba(255,255,255,0.85)";
              ctx.fillRect(lx - 2 * dpr, ly - 12 * dpr, w + 4 * dpr, 16 * dpr);
              ctx.fillStyle = colour;
              ctx.fillText(m.label, lx, ly);
            }
          });
          ctx.restore();
        }]
      }
    };
  }

  // Axis ticks in the program's time zone, 24-hour clock; the date where the day changes.
  function timeLabels(u, splits) {
    var tz = root.dataset.tz, hm = uPlot.fmtDate("{HH}:{mm}"), day = uPlot.fmtDate("{DD} {MMM}"), last = "";
    var span = u.scales.x.max - u.scales.x.min;
    return splits.map(function (ts) {
      var d = uPlot.tzDate(new Date(ts * 1e3), tz), date = day(d);
      var label = span > 3 * 86400 && d.getHours() === 0 && d.getMinutes() === 0 ? date : hm(d);
      if (date !== last && label !== date) label = hm(d) + "\n" + date;
      last = date;
      return label;
    });
  }

  function width() { return Math.max(320, document.getElementById("sv-charts").clientWidth - 8); }

  function build(group, data, index) {
    var tz = root.dataset.tz;
    var hasRight = group.series.some(function (s) { return s.axis === 1; });
    var series = [{ label: "Time", value: function (u, v) { return v == null ? "—" : uPlot.fmtDate("{YYYY}-{MM}-{DD} {HH}:{mm}")(uPlot.tzDate(new Date(v * 1e3), tz)); } }];
    group.series.forEach(function (s) {
      var spec = {
        label: s.label, scale: s.axis === 1 ? "y2" : "y", stroke: s.color, width: s.dash ? 1.5 : 2,
        value: function (u, v) { return fmt(v); }, spanGaps: s.dash
      };
      if (s.dash) spec.dash = [8, 6];
      if (s.points) { spec.paths = function () { return null; }; spec.points = { show: true, size: 8, fill: s.color }; }
      else { spec.points = { show: false }; }
      series.push(spec);
    });
    var axes = [
      { stroke: "#14212b", grid: { stroke: "#e3e8ec" }, size: 48, values: timeLabels },
      { scale: "y", label: group.axes[0], stroke: "#14212b", grid: { stroke: "#e3e8ec" }, size: 64,
        values: function (u, vals) { return vals.map(fmt); } }
    ];
    if (hasRight) axes.push({ scale: "y2", side: 1, label: group.axes[1], stroke: "#14212b", grid: { show: false },
                              size: 64, values: function (u, vals) { return vals.map(fmt); } });
    // Without a right-hand axis, reserve its width anyway: every chart's plot area then spans the same times.
    else axes.push({ scale: "y", side: 1, size: 64, label: "", grid: { show: false }, ticks: { show: false },
                     stroke: "transparent", values: function () { return []; } });
    var scales = { x: { time: true, min: data.start, max: data.end } };
    // Fractions (FdO2, saturations) on a fixed 0–1 axis: a drift from 1.00 to 0.98 must not look like a cliff.
    if (group.axes[0] === "fraction") scales.y = { range: [0, 1.05] };
    if (group.axes[1] === "fraction") scales.y2 = { range: [0, 1.05] };
    var opts = {
      title: group.title, width: width(), height: 230,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); },
      cursor: { sync: { key: "sv-" + root.dataset.url }, drag: { x: true, y: false } },
      scales: scales,
      axes: axes, series: series,
      legend: { live: true },
      plugins: [markerPlugin(data.markers, index === 0)],
      hooks: {
        setScale: [function (u, key) {
          if (key !== "x" || syncing) return;
          syncing = true;
          charts.forEach(function (c) { if (c !== u) c.setScale("x", { min: u.scales.x.min, max: u.scales.x.max }); });
          syncing = false;
        }]
      }
    };
    var holder = document.createElement("section");
    holder.className = "card sv-chart";
    holder.dataset.group = group.id;
    document.getElementById("sv-charts").appendChild(holder);
    return new uPlot(opts, group.data, holder);
  }

  function listMarkers(data) {
    var list = document.getElementById("sv-marker-list");
    list.innerHTML = "";
    var fmtTime = uPlot.fmtDate("{DD} {MMM} {HH}:{mm}");
    data.markers.filter(function (m) { return m.kind !== "check"; }).forEach(function (m) {
      var li = document.createElement("li");
      li.className = "sv-marker sv-marker-" + m.kind + " sv-" + m.tone;
      li.textContent = fmtTime(uPlot.tzDate(new Date(m.t * 1e3), root.dataset.tz)) + " · " + m.label;
      list.appendChild(li);
    });
  }

  function load(range) {
    var status = document.getElementById("sv-trends-status");
    status.textContent = "Loading charts…";
    fetch(root.dataset.url + "?range=" + encodeURIComponent(range), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        charts.forEach(function (c) { c.destroy(); });
        charts = [];
        document.getElementById("sv-charts").innerHTML = "";
        current = data;
        listMarkers(data);
        data.groups.forEach(function (g, i) { charts.push(build(g, data, i)); });
        status.textContent = data.groups.length ? "" : "No telemetry in this range.";
        root.dataset.range = range;
        document.querySelectorAll(".sv-ranges [data-range]").forEach(function (b) {
          var on = b.dataset.range === range;
          b.classList.toggle("primary", on);
          b.setAttribute("aria-pressed", on ? "true" : "false");
        });
        history.replaceState(null, "", "?range=" + range);
      })
      .catch(function (e) { status.textContent = "The charts could not be loaded (" + e.message + ")."; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("sv-trends");
    if (!root) return;
    document.querySelectorAll(".sv-ranges [data-range]").forEach(function (b) {
      b.addEventListener("click", function () { load(b.dataset.range); });
    });
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { charts.forEach(function (c) { c.setSize({ width: width(), height: 230 }); }); }, 150);
    });
    load(root.dataset.range || "24h");
  });
})();
