// Hourly check form: live ΔP, the "from console" mark goes when a value is changed, add clot rows.
(function () {
  "use strict";
  function num(id) {
    var el = document.getElementById(id);
    if (!el || el.value === "") return null;
    var v = parseFloat(el.value);
    return isNaN(v) ? null : v;
  }
  function updateDeltaP() {
    var out = document.getElementById("sv-dp");
    if (!out) return;
    var pre = num("id_pre_oxygenator_pressure_mmhg"), post = num("id_post_oxygenator_pressure_mmhg");
    out.textContent = pre === null || post === null ? "—" : (Math.round((pre - post) * 100) / 100) + " " + (out.dataset.unit || "mmHg");
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".sv-prefilled[data-for]").forEach(function (mark) {
      var input = document.getElementById(mark.dataset.for);
      if (!input) return;
      var check = function () {
        var same = input.value !== "" && parseFloat(input.value) === parseFloat(mark.dataset.value);
        mark.hidden = !same;
        input.closest(".sv-field").classList.toggle("is-prefilled", same);
      };
      input.addEventListener("input", check);
      check();
    });
    ["id_pre_oxygenator_pressure_mmhg", "id_post_oxygenator_pressure_mmhg"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.addEventListener("input", updateDeltaP);
    });
    updateDeltaP();
    var add = document.getElementById("sv-add-clot");
    if (add) add.addEventListener("click", function () {
      var body = document.querySelector("#sv-clots tbody"), count = document.getElementById("clot-count");
      var last = body.querySelector("tr:last-child");
      var n = parseInt(count.value, 10);
      var row = last.cloneNode(true);
      row.querySelectorAll("input, select").forEach(function (el) {
        el.name = el.name.replace(/clot-\d+-/, "clot-" + n + "-");
        if (el.tagName === "INPUT") el.value = "";
        else el.selectedIndex = 0;
        el.setAttribute("aria-label", el.getAttribute("aria-label").replace(/Finding \d+/, "Finding " + (n + 1)));
      });
      body.appendChild(row);
      count.value = n + 1;
    });
  });
})();
