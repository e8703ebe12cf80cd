/* The target plan grid (TGT-2/3): live sums as you type, exact to the cent.
 *
 * Every figure is read as an integer number of cents (BigInt) from its text — never as
 * a float — so 0.10 + 0.20 is exactly 0.30 and sums of 16-digit amounts stay exact.
 * The page is server-rendered and works without this file; it only adds the live
 * sums, the change marks, and posts just the changed cells.
 */
(function () {
  "use strict";

  var PATTERN = /^(\d*)(?:\.(\d*))?$/;

  // "1,234.5" → 123450n; "" → 0n; anything else (letters, a minus, 3 decimals) → null.
  function toCents(text) {
    var s = String(text == null ? "" : text).replace(/[,\s，]/g, "");
    if (s === "") return 0n;
    var m = PATTERN.exec(s);
    if (!m || (m[1] === "" && (m[2] === undefined || m[2] === ""))) return null;
    var frac = m[2] || "";
    if (frac.length > 2) return null;
    return BigInt(m[1] || "0") * 100n + BigInt((frac + "00").slice(0, 2));
  }

  // 123450n → "1,234.50" (places 2) or "1,235"-style whole numbers (places 0, when the
  // cents are zero; a stray fraction is still shown rather than hidden).
  function format(cents, places) {
    if (cents === null) return "?";
    var negative = cents < 0n;
    var abs = negative ? -cents : cents;
    var whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = (abs % 100n).toString().padStart(2, "0");
    var text = places === 0 && frac === "00" ? whole : whole + "." + frac;
    return (negative ? "-" : "") + text;
  }

  function cellValue(td) {
    var input = td.querySelector("input.grid-input");
    if (input) return toCents(input.value);
    var span = td.querySelector(".grid-value");
    return span ? toCents(span.getAttribute("data-value")) : 0n;
  }

  function init(table) {
    var places = Number(table.getAttribute("data-places") || "2");
    var childrenOf = {};
    var source = document.getElementById("grid-period-children");
    if (source) childrenOf = JSON.parse(source.textContent);
    var form = table.closest("form");
    var changes = document.getElementById("grid-changes");
    var mismatchText = table.getAttribute("data-msg-mismatch") || "%s";

    function rowValues(tr) {
      var values = {};
      tr.querySelectorAll("td[data-period]").forEach(function (td) {
        values[td.getAttribute("data-period")] = cellValue(td);
      });
      return values;
    }

    function recompute() {
      var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-row]"));
      var parent = null;
      var sums = {};
      var changed = 0;
      var invalid = 0;
      rows.forEach(function (tr) {
        var values = rowValues(tr);
        // Each row: quarters against its year, months against their quarter.
        tr.querySelectorAll("td[data-period]").forEach(function (td) {
          var period = td.getAttribute("data-period");
          var parts = childrenOf[period];
          var off = false;
          var diff = 0n;
          if (parts && values[period] !== null) {
            var total = 0n;
            var known = true;
            parts.forEach(function (p) {
              if (values[p] === null) known = false; else total += values[p];
            });
            if (known && total !== values[period]) { off = true; diff = total - values[period]; }
          }
          td.classList.toggle("cell-mismatch", off);
          if (off) td.title = mismatchText.replace("%s", format(diff, places));
          else td.removeAttribute("title");
          var input = td.querySelector("input.grid-input");
          if (input) {
            var now = toCents(input.value);
            var saved = toCents(input.getAttribute("data-saved"));
            var isChanged = now === null || now !== saved;
            input.classList.toggle("cell-changed", isChanged);
            if (now === null) { invalid += 1; input.classList.add("is-invalid"); }
            else if (!input.hasAttribute("aria-describedby")) input.classList.remove("is-invalid");
            if (isChanged) changed += 1;
          }
        });
        if (tr.getAttribute("data-role") === "parent") { parent = values; return; }
        Object.keys(values).forEach(function (p) {
          if (sums[p] === undefined) sums[p] = 0n;
          if (sums[p] !== null) sums[p] = values[p] === null ? null : sums[p] + values[p];
        });
      });
      // Rows the viewer may not see still count: the page carries their part.
      table.querySelectorAll("#grid-sum td[data-period]").forEach(function (td) {
        var p = td.getAttribute("data-period");
        var hidden = toCents(td.getAttribute("data-hidden") || "");
        if (sums[p] === undefined) sums[p] = 0n;
        if (sums[p] !== null && hidden !== null) sums[p] += hidden;
        td.textContent = format(sums[p], places);
      });
      table.querySelectorAll("#grid-diff td[data-period]").forEach(function (td) {
        var p = td.getAttribute("data-period");
        var sum = sums[p] === undefined ? 0n : sums[p];
        var mine = parent ? parent[p] : 0n;
        var diff = sum === null || mine === null ? null : sum - mine;
        td.textContent = format(diff, places);
        td.classList.toggle("diff-off", diff === null || diff !== 0n);
      });
      if (changes) {
        var template = changes.getAttribute(changed === 1 ? "data-template-one"
                                                           : "data-template") || "%s";
        changes.textContent = changed ? template.replace("%s", String(changed)) : "";
        if (invalid) changes.textContent += " " + (changes.getAttribute("data-invalid") || "");
      }
    }

    table.addEventListener("input", function (event) {
      if (event.target.classList.contains("grid-input")) recompute();
    });
    // Spreadsheet keys: Enter goes down the column (Shift+Enter up); Ctrl+Enter saves.
    function inputAt(input, rowStep, colStep) {
      var td = input.closest("td");
      var tr = td.parentElement;
      var col = Array.prototype.indexOf.call(tr.children, td) + colStep;
      var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
      var r = rows.indexOf(tr) + rowStep;
      if (r < 0 || r >= rows.length) return null;
      var cell = rows[r].children[col];
      return cell ? cell.querySelector("input.grid-input") : null;
    }
    table.addEventListener("keydown", function (event) {
      var input = event.target;
      if (event.key !== "Enter" || !input.classList.contains("grid-input")) return;
      if (event.ctrlKey || event.metaKey) return;  // the form's own submit: save
      event.preventDefault();
      var next = inputAt(input, event.shiftKey ? -1 : 1, 0);
      if (next) { next.focus(); next.select(); }
    });
    // Pasting cells copied from Excel (tabs between columns, new lines between rows)
    // fills the grid from this cell rightwards and downwards.
    table.addEventListener("paste", function (event) {
      var input = event.target;
      if (!input.classList || !input.classList.contains("grid-input")) return;
      var text = (event.clipboardData || window.clipboardData).getData("text");
      if (!/[\t\n]/.test(text.replace(/\r?\n$/, ""))) return;
      event.preventDefault();
      text.replace(/\r/g, "").replace(/\n$/, "").split("\n").forEach(function (line, r) {
        line.split("\t").forEach(function (value, c) {
          var target = inputAt(input, r, c);
          if (target) target.value = value.trim();
        });
      });
      recompute();
    });
    // Thousands separators once the cursor leaves a cell (the server reads both forms).
    table.addEventListener("focusout", function (event) {
      var input = event.target;
      if (!input.classList || !input.classList.contains("grid-input")) return;
      var cents = toCents(input.value);
      if (cents !== null && input.value.trim() !== "") input.value = format(cents, places);
    });
    // Leaving with unsaved figures (a link, a split) asks first; saving them does not.
    var saving = false;
    window.addEventListener("beforeunload", function (event) {
      if (saving || !table.isConnected) return;
      if (table.querySelector("input.grid-input.cell-changed")) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    if (form) {
      // Post only the changed cells: a big team's grid stays far below the server's
      // field limit, and what was not touched is not rewritten.
      form.addEventListener("submit", function () {
        saving = true;
        form.querySelectorAll("input.grid-input").forEach(function (input) {
          var now = toCents(input.value);
          if (now !== null && now === toCents(input.getAttribute("data-saved"))) {
            input.disabled = true;
          }
        });
      });
    }
    recompute();
  }

  function start() {
    var table = document.getElementById("plan-grid");
    if (table) init(table);
  }

  // Exposed for the browser test and the curious: the exact arithmetic in one place.
  window.bizdeptGrid = { toCents: toCents, format: format };
  document.addEventListener("DOMContentLoaded", start);
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "grid") start();
  });
})();
