// Draws every <canvas data-chart="..."> with Chart.js (served from this package; no CDN).
// Kept out of the pages so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var palette = ["#2f6fdf", "#f28c28", "#2a9d8f", "#e63946", "#8d6cab"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          return { label: d.label, data: d.data, backgroundColor: palette[i % palette.length] };
        })
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { title: { display: true, text: spec.title } }
      }
    });
  });
})();
