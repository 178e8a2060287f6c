// Draws the dashboard's charts from the figure JSON the server embedded beside each one
// (see audit/insights/views.py), each when it scrolls into view, with plotly.js fetched
// once the page has loaded: the headline and the numbers show at once, the library does not
// hold up the page, and ten figures are not drawn before anyone looks at them. Before printing, every chart is drawn.
// A click on a bar, point or slice opens the audit log filtered to those events: each
// trace carries the URL in its customdata (built on the server, see charts.py).
(function () {
  "use strict";
  var CONFIG = { displaylogo: false, responsive: true };
  var plotly = null;

  function loadPlotly(src) {
    if (!plotly) {
      plotly = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return plotly;
  }

  function openEvents(event) {
    var point = event.points && event.points[0];
    var url = point && (Array.isArray(point.customdata) ? point.customdata[0] : point.customdata);
    if (typeof url === "string" && url.charAt(0) === "/") window.location.assign(url);
  }

  function draw(plot, src) {
    if (plot.dataset.drawn) return;
    plot.dataset.drawn = "1";
    var figure = JSON.parse(document.getElementById(plot.dataset.figure).textContent);
    loadPlotly(src).then(function (Plotly) {
      return Plotly.newPlot(plot, figure.data, figure.layout, CONFIG);
    }).then(function () {
      plot.on("plotly_click", openEvents);
      plot.dataset.ready = "1";
    });
  }

  function start() {
    var charts = document.querySelector(".charts[data-plotly]");
    if (!charts) return;
    var src = charts.dataset.plotly;
    var plots = Array.prototype.slice.call(charts.querySelectorAll(".plot[data-figure]"));
    loadPlotly(src);  // the page has loaded: fetch the library now, ready when a chart shows
    window.addEventListener("beforeprint", function () {
      plots.forEach(function (plot) { draw(plot, src); });
    });
    if (!("IntersectionObserver" in window)) {
      plots.forEach(function (plot) { draw(plot, src); });
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { observer.unobserve(entry.target); draw(entry.target, src); }
      });
    }, { rootMargin: "300px 0px" });
    plots.forEach(function (plot) { observer.observe(plot); });
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
