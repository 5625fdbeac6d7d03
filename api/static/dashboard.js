// Draws the page's charts (JSON in #chart-data) with ECharts as SVG.
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("chart-data").textContent);
  var palette = ["#2f6fb2", "#e07b39", "#3f9c5a", "#b8457a", "#7a5cc2", "#b59b2c", "#4a9bb0", "#6b6b6b"];

  function bandSeries(band) {
    // The expected range as a filled area: an invisible lower line, the width stacked on it.
    var lower = band.map(function (p) { return [p[0], p[1]]; });
    var width = band.map(function (p) { return [p[0], p[2] - p[1]]; });
    return [
      { name: "expected", type: "line", data: lower, stack: "band", symbol: "none", lineStyle: { opacity: 0 }, silent: true },
      { name: "expected range", type: "line", data: width, stack: "band", symbol: "none", lineStyle: { opacity: 0 }, itemStyle: { color: "rgba(47,111,178,0.35)" },
        areaStyle: { color: "rgba(47,111,178,0.15)" }, silent: true }
    ];
  }

  specs.forEach(function (spec) {
    var el = document.querySelector('[data-chart="' + spec.id + '"]');
    if (!el) { return; }
    var series = [];
    if (spec.band && spec.band.length) { series = series.concat(bandSeries(spec.band)); }
    spec.series.forEach(function (s) {
      series.push({ name: s.name, type: spec.kind === "stack" ? "bar" : "line", stack: spec.kind === "stack" ? "total" : undefined,
        data: s.data, showSymbol: false, connectNulls: false });
    });
    if (spec.markers && spec.markers.length) {
      series.push({ name: "alerts", type: "scatter", symbol: "triangle", symbolSize: 12, itemStyle: { color: "#ab091e" },
        data: spec.markers.map(function (m) { return { value: [m[0], m[1]], name: m[2] }; }),
        tooltip: { formatter: function (p) { return p.name + "<br>" + p.value[0]; } } });
    }
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      color: palette,
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "plain", top: 0, data: series.map(function (s) { return s.name; }).filter(function (n) { return n !== "expected"; }) },
      grid: { left: 56, right: 16, top: 56, bottom: 28 },
      xAxis: { type: "time" },
      yAxis: { type: "value", scale: spec.kind !== "stack" },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
