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

  // Tick labels with the decimals the tick step needs (0, 2, 4 … or 0.2, 0.4 …), not two decimals everywhere.
  function ticks(u, vals) {
    var step = vals.length > 1 ? Math.abs(vals[1] - vals[0]) : 1;
    var decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
    return vals.map(function (v) { return v == null ? "" : v.toFixed(decimals); });
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
              lx = Math.max(b.left + 2 * dpr, lx);  // a narrow chart (a phone): keep the label inside the plot
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

  // The width inside a chart's card (its padding off), so the plot and its legend never spill past the border.
  function width(holder) {
    var cs = getComputedStyle(holder);
    return Math.max(200, Math.floor(holder.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)));
  }

  // Target bands (the run's targets, in the chart's units) under the series: a shaded band between low and high,
  // open to the axis edge where only one bound is set, a dashed line where low equals high (a set value).
  function bandPlugin(bands) {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx, b = u.bbox;
          ctx.save();
          bands.forEach(function (band) {
            var scale = band.axis === 1 ? "y2" : "y", sc = u.scales[scale];
            var x0 = Math.max(b.left, u.valToPos(band.from, "x", true));
            var x1 = Math.min(b.left + b.width, u.valToPos(band.to, "x", true));
            if (x1 <= x0) return;
            var low = band.low === null ? sc.min : band.low, high = band.high === null ? sc.max : band.high;
            var y0 = u.valToPos(high, scale, true), y1 = u.valToPos(low, scale, true);
            ctx.fillStyle = band.color + "22"; ctx.strokeStyle = band.color + "99";
            ctx.lineWidth = dpr; ctx.setLineDash([4 * dpr, 4 * dpr]);
            if (Math.abs(y1 - y0) < 1) {
              ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y0); ctx.stroke();
              return;
            }
            ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
            ctx.beginPath();
            if (band.high !== null) { ctx.moveTo(x0, y0); ctx.lineTo(x1, y0); }
            if (band.low !== null) { ctx.moveTo(x0, y1); ctx.lineTo(x1, y1); }
            ctx.stroke();
          });
          ctx.restore();
        }]
      }
    };
  }

  function build(group, data, index) {
    var tz = root.dataset.tz;
    var hasRight = group.axes.length > 1;
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
      { scale: "y", label: group.axes[0].label, stroke: "#14212b", grid: { stroke: "#e3e8ec" }, size: 64,
        values: ticks }
    ];
    if (hasRight) axes.push({ scale: "y2", side: 1, label: group.axes[1].label, stroke: "#14212b", grid: { show: false },
                              size: 64, values: ticks });
    // Without a right-hand axis, reserve its width anyway: every chart's plot area then spans the same times.
    else axes.push({ scale: "y", side: 1, size: 64, label: "", grid: { show: false }, ticks: { show: false },
                     stroke: "transparent", values: function () { return []; } });
    // Fixed y ranges from the server (charts.py): noise never fills the height, and a value outside the usual range
    // widens the axis to a round number instead of rescaling everything to it.
    var scales = { x: { time: true, min: data.start, max: data.end } };
    group.axes.forEach(function (a, i) {
      scales[i === 0 ? "y" : "y2"] = { auto: false, range: [a.min, a.max] };
    });
    var opts = {
      title: group.title, width: 0, height: 230,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); },
      cursor: { sync: { key: "sv-" + root.dataset.url }, drag: { x: true, y: false } },
      scales: scales,
      axes: axes, series: series,
      legend: { live: true },
      plugins: [bandPlugin(group.bands || []), markerPlugin(data.markers, index === 0)],
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
    holder.dataset.axes = group.axes.map(function (a) { return a.label + " " + a.min + "–" + a.max; }).join("; ");
    document.getElementById("sv-charts").appendChild(holder);
    opts.width = width(holder);
    // The y ranges uPlot actually drew, for tests and for anyone checking a chart by hand.
    opts.hooks.draw = [function (u) {
      holder.dataset.scales = JSON.stringify(group.axes.map(function (a, i) {
        var sc = u.scales[i === 0 ? "y" : "y2"];
        return [sc.min, sc.max];
      }));
    }];
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
      timer = setTimeout(function () { charts.forEach(function (c) { c.setSize({ width: width(c.root.parentElement), height: 230 }); }); }, 150);
    });
    load(root.dataset.range || "24h");
  });
})();
