// The home page's charts, drawn with the vendored Chart.js from the figures the server put in
// the page as JSON (#dashboard-data); no inline script, so the page's CSP stays strict.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#2f5d3a", "#7fb07f", "#c9a227", "#5b7fa6"];
  var money = function (v) { return Number(v).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }); };
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;  // drawn at once: screenshots and tests see the final chart

  function make(canvas, config) {
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false }, config.options || {});
    canvas.chart = new Chart(canvas, config);
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var name = canvas.getAttribute("data-chart");
    var chart = data[name];
    if (!chart) { return; }
    if (name === "today") {
      make(canvas, {
        type: "bar",
        data: { labels: chart.labels, datasets: [{ label: "Sales today", data: chart.data, backgroundColor: palette }] },
        options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return money(c.raw); } } } } }
      });
    } else if (name === "week") {
      make(canvas, {
        type: "bar",
        data: {
          labels: chart.labels,
          datasets: chart.series.map(function (s, i) { return { label: s.label, data: s.data, backgroundColor: palette[i % palette.length] }; })
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true } } }
      });
    } else if (name === "age") {
      make(canvas, {
        type: "bar",
        data: { labels: chart.labels, datasets: [{ label: "Boxes", data: chart.data, backgroundColor: ["#7fb07f", "#a9c47f", "#c9a227", "#a3242b"] }] },
        options: { plugins: { legend: { display: false } }, scales: { y: { ticks: { precision: 0 } } } }
      });
    }
    canvas.setAttribute("data-drawn", "1");
  });
})();
