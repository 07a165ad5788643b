/* The three-rates dashboard 三率看板: draws the charts from the page's json_script data.
   The tables on the page carry every number; without this script nothing is lost. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var keys = ["response_rate", "on_time_response_rate", "resolution_rate", "satisfaction_rate"];
  var colours = ["#0b5cad", "#5b8ff9", "#1e7e34", "#c0392b"];
  var large = document.documentElement.classList.contains("large");
  var font = large ? 16 : 12;
  var charts = [];

  function percent(value) { return value === null || value === undefined ? "—" : value.toFixed(2) + "%"; }

  function column(series, key) {
    return series.map(function (row) { return row[key]; });
  }

  function show(id, height) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    el.hidden = false;
    el.style.height = height + "px";
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    charts.push(chart);
    return chart;
  }

  function common() {
    return {
      animation: false,  // a dashboard is read, not watched; and screenshots see the final state
      color: colours,
      textStyle: { fontSize: font },
      tooltip: { trigger: "axis", valueFormatter: percent, confine: true },
      legend: { top: 0, type: "scroll", textStyle: { fontSize: font } },
      grid: { left: 8, right: 16, top: large ? 48 : 36, bottom: 8, containLabel: true }
    };
  }

  var trend = show("trend-chart", large ? 320 : 260);
  if (trend) {
    var line = common();
    line.xAxis = { type: "category", data: data.trend.x, boundaryGap: false, axisLabel: { fontSize: font } };
    line.yAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", fontSize: font } };
    line.series = keys.map(function (key) {
      return { name: data.labels[key], type: "line", data: column(data.trend.series, key), connectNulls: false,
               showSymbol: data.trend.x.length <= 31 };
    });
    line.aria = { enabled: true };
    trend.setOption(line);
  }

  if (data.children.x.length) {
    var perRow = large ? 84 : 64;
    var bars = show("children-chart", Math.max(240, data.children.x.length * perRow + 60));
    if (bars) {
      var bar = common();
      bar.tooltip.trigger = "axis";
      // horizontal bars: long Chinese names stay readable on a 390 px screen
      bar.yAxis = { type: "category", data: data.children.x, inverse: true,
                    axisLabel: { fontSize: font, width: large ? 96 : 80, overflow: "truncate" } };
      bar.xAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", fontSize: font } };
      bar.series = keys.map(function (key) {
        return { name: data.labels[key], type: "bar", data: column(data.children.series, key), barMaxWidth: 14 };
      });
      bar.aria = { enabled: true };
      bars.setOption(bar);
    }
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
