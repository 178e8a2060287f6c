// Draws the dashboard's charts from the figure JSON the server embedded beside each one
// (see audit/insights/views.py), each when it scrolls into view: ten figures drawn at
// once held the first paint for seconds. Before printing, every chart is drawn.
// A click on a bar, point or slice opens the audit log filtered to those events: each
// trace carries the URL in its customdata (built on the server, see charts.py).
(function () {
  "use strict";
  var CONFIG = { displaylogo: false, responsive: true };

  function openEvents(event) {
    var point = event.points && event.points[0];
    var url = point && (Array.isArray(point.customdata) ? point.customdata[0] : point.customdata);
    if (typeof url === "string" && url.charAt(0) === "/") window.location.assign(url);
  }

  function draw(plot) {
    if (plot.dataset.drawn) return;
    plot.dataset.drawn = "1";
    var figure = JSON.parse(document.getElementById(plot.dataset.figure).textContent);
    window.Plotly.newPlot(plot, figure.data, figure.layout, CONFIG).then(function () {
      plot.on("plotly_click", openEvents);
      plot.dataset.ready = "1";
    });
  }

  function start() {
    var plots = Array.prototype.slice.call(document.querySelectorAll(".plot[data-figure]"));
    if (!window.Plotly || !plots.length) return;
    if (!("IntersectionObserver" in window)) { plots.forEach(draw); return; }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { observer.unobserve(entry.target); draw(entry.target); }
      });
    }, { rootMargin: "300px 0px" });
    plots.forEach(function (plot) { observer.observe(plot); });
    window.addEventListener("beforeprint", function () { plots.forEach(draw); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
