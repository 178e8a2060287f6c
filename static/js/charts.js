// A click on a bar, point or slice opens the audit log filtered to those events: each
// trace carries the URL in its customdata (built on the server, see audit/charts.py).
(function () {
  "use strict";
  function bind() {
    document.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
      // Each chart was drawn as soon as its script ran, before the grid had all its
      // columns: fit it to its card now that the layout is final.
      if (window.Plotly) window.Plotly.Plots.resize(plot);
      if (plot.dataset.clickBound) return;
      plot.dataset.clickBound = "1";
      plot.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var url = point && (Array.isArray(point.customdata) ? point.customdata[0] : point.customdata);
        if (typeof url === "string" && url.charAt(0) === "/") window.location.assign(url);
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bind);
  else bind();
})();
