/* Every chart on every page: an element with data-chart="<id of a json_script>" gets an
   ECharts instance built from that JSON option. Pages ship the figures as data and always
   show the same figures in a table beside the chart. */
(function () {
  function render(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.chartReady) return;
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(source.textContent));
      el.dataset.chartReady = "1";
      new ResizeObserver(function () { chart.resize(); }).observe(el);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSettle", function (event) { render(event.target); });
})();
