// Draws the dashboard's charts from the figures the page carries as JSON data blocks
// (no inline script: see the Content-Security-Policy in settings), then makes them
// clickable: a click on a bar, point or slice opens the audit log filtered to those
// events; each trace carries the URL in its customdata (built on the server, see
// audit/charts.py).
(function () {
  "use strict";
  var CONFIG = { displaylogo: false, responsive: true };

  function openClicked(event) {
    var point = event.points && event.points[0];
    var url = point && (Array.isArray(point.customdata) ? point.customdata[0] : point.customdata);
    if (typeof url === "string" && url.charAt(0) === "/") window.location.assign(url);
  }

  function draw(plot) {
    var source = document.getElementById(plot.dataset.figure);
    if (!source || !window.Plotly) return;
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(plot, figure.data, figure.layout, CONFIG).then(function () {
      plot.on("plotly_click", openClicked);
    });
  }

  function drawAll() {
    document.querySelectorAll(".chart-plot[data-figure]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
