/* The dispute layer on the one map (/command): open disputes as points coloured by risk, from
   /api/v1/disputes/map (scoped; code, type, risk, state — no names, no description). The switch is only on
   the page for those who may see disputes. Runs after command.js has made the map (window.shiyuCommand). */
(function () {
  "use strict";
  var RISK_COLOURS = { high: "#d92d20", medium: "#e8a500", low: "#0b5cad" };
  var textBox = function (text) { return window.shiyu.textBox(text); };  // an element, never a string

  function start() {
    var view = window.shiyuCommand;
    var box = document.querySelector("#layers input[name=disputes]");
    if (!view || !box || !window.L) { return; }
    var layer = null;
    box.addEventListener("change", function () {
      if (!box.checked) { if (layer) { view.map.removeLayer(layer); } return; }
      if (layer) { layer.addTo(view.map); return; }
      fetch("/api/v1/disputes/map", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (points) {
          layer = L.layerGroup(points.map(function (p) {
            return L.circleMarker([p.lat, p.lon], { radius: p.is_group ? 10 : 7, weight: 2,
              color: RISK_COLOURS[p.risk_level] || RISK_COLOURS.low, fillOpacity: 0.7, keyboard: false })
              .bindTooltip(textBox(p.code))
              .on("click", function () { window.location.href = "/disputes/" + p.id; });
          }));
          document.getElementById("command-map").dataset.disputes = String(points.length);
          if (box.checked) { layer.addTo(view.map); }
        });
    });
  }

  window.addEventListener("load", start);
})();
