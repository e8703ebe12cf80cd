// The bonus plan form (INC-1): band, tier and gate rows added and removed in place, and
// the parts each choice needs shown (grade coefficients or score bands, the tiers only
// with a commission, a KPI and floor or grades for a gate).
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) { return; }
  var basis = form.querySelector("[name=coefficient_basis]");
  var measure = form.querySelector("[name=commission_measure]");
  var next = 1000;  // new rows' numbers: after any the page was rendered with

  function showGate(row) {
    var kind = row.querySelector(".gate-kind").value;
    row.querySelector(".kpi-only").hidden = kind !== "kpi_below";
    row.querySelector(".kpi-only").classList.toggle("d-flex", kind === "kpi_below");
    row.querySelector(".grade-only").hidden = kind !== "grade_in";
  }

  function show() {
    var byGrade = basis.value === "grade";
    document.getElementById("grade-coefficients").hidden = !byGrade;
    document.getElementById("score-bands").hidden = byGrade;
    var paid = measure.value !== "";
    document.getElementById("tiers-block").hidden = !paid;
    form.querySelectorAll(".gate-row").forEach(showGate);
  }

  form.addEventListener("click", function (event) {
    var add = event.target.closest(".add-row");
    if (add) {
      var body = document.getElementById(add.dataset.rows);
      var html = document.getElementById(add.dataset.template).innerHTML
        .replace(/__n__/g, String(next++));
      body.insertAdjacentHTML("beforeend", html);
      var row = body.lastElementChild;
      if (row.classList.contains("gate-row")) { showGate(row); }
      var first = row.querySelector("input, select");
      if (first) { first.focus(); }
      return;
    }
    var remove = event.target.closest(".remove-row");
    if (remove) { remove.closest("tr").remove(); }
  });
  form.addEventListener("change", function (event) {
    if (event.target === basis || event.target === measure) { show(); }
    var row = event.target.closest(".gate-row");
    if (row && event.target.classList.contains("gate-kind")) { showGate(row); }
  });
  show();
}());
