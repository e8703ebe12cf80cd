// The scorecard template form (PER-2): item rows added and removed in place, the fields
// each row needs shown for its kind and rule, and the weights' total kept live.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form) { return; }
  var body = document.getElementById("item-rows");
  var template = document.getElementById("item-template");
  var total = document.getElementById("weights-total");
  var off = document.getElementById("weights-off");

  function cents(text) {
    var clean = String(text || "").replace(/[,\s]/g, "");
    if (!/^\d+(\.\d{0,2})?$/.test(clean)) { return null; }
    var parts = clean.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function sum() {
    var all = 0, bad = false;
    body.querySelectorAll(".item-weight").forEach(function (input) {
      if (input.value.trim() === "") { return; }
      var c = cents(input.value);
      if (c === null) { bad = true; } else { all += c; }
    });
    total.textContent = bad ? "?" : (all / 100).toFixed(2).replace(/\.00$/, "");
    var wrong = bad || all !== 10000;
    total.classList.toggle("text-danger", wrong);
    total.classList.toggle("text-success", !wrong);
    off.hidden = !wrong;
  }

  function show(row) {
    var kind = row.querySelector(".item-kind").value;
    var rule = row.querySelector(".item-rule").value;
    var source = row.querySelector(".item-source").value;
    row.querySelectorAll(".kpi-only").forEach(function (el) { el.hidden = kind !== "kpi"; });
    row.querySelector(".fixed-only").hidden = kind !== "kpi" || source !== "fixed";
    row.querySelector(".linear-only").hidden = rule !== "linear";
    row.querySelector(".steps-only").hidden = rule === "linear";
    row.querySelector(".not-table").hidden = rule === "table";
  }

  var next = body.querySelectorAll(".item-row").length;
  document.getElementById("add-item").addEventListener("click", function () {
    var html = template.innerHTML.replace(/__n__/g, String(next++));
    body.insertAdjacentHTML("beforeend", html);
    var row = body.lastElementChild;
    show(row);
    row.querySelector(".item-kind").focus();
    sum();
  });
  body.addEventListener("click", function (event) {
    var button = event.target.closest(".remove-item");
    if (!button) { return; }
    button.closest(".item-row").remove();
    sum();
  });
  body.addEventListener("change", function (event) {
    var row = event.target.closest(".item-row");
    if (row) { show(row); }
    sum();
  });
  body.addEventListener("input", function (event) {
    if (event.target.classList.contains("item-weight")) { sum(); }
  });
  body.querySelectorAll(".item-row").forEach(show);
  sum();
})();
