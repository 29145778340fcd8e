/* The city's own base map under every map: outlines and names of the areas the view shows (districts zoomed
   out, grids zoomed in), from /api/v1/map/base — no tile server, no internet. Loaded right after leaflet.js,
   it hooks every L.map the page makes, so no page has to remember it. A map made with {shiyuBase: false}
   goes without. Names are set as text, never as HTML. */
(function () {
  "use strict";
  if (!window.L) { return; }

  var STYLE = { color: "#7b8794", weight: 1, opacity: 0.9, fill: true, fillColor: "#f4f1ea", fillOpacity: 0.35,
                interactive: false };

  function inside(lon, lat, ring) {  // ray casting on one ring of [lon, lat] pairs
    var hit = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a[1] > lat) !== (b[1] > lat) && lon < (b[0] - a[0]) * (lat - a[1]) / (b[1] - a[1]) + a[0]) { hit = !hit; }
    }
    return hit;
  }

  function covers(geometry, lon, lat) {
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    return polygons.some(function (rings) { return inside(lon, lat, rings[0]); });
  }

  // Where a name goes: the area's own label point when the view holds it, else a point above the middle of the part
  // of the area's box the view shows (when that lies in the area) — so the grid one stands in is named even when its
  // middle is off screen. Null: the area shows too little to be named.
  function placeFor(feature, layer, view) {
    var at = feature.properties.label;
    if (view.contains([at[1], at[0]])) { return [at[1], at[0]]; }
    var box = layer.getBounds();
    if (!view.intersects(box)) { return null; }
    var south = Math.max(box.getSouth(), view.getSouth()), north = Math.min(box.getNorth(), view.getNorth());
    var west = Math.max(box.getWest(), view.getWest()), east = Math.min(box.getEast(), view.getEast());
    var lat = south + (north - south) * 0.75, lon = (west + east) / 2;  // above the middle, where pins go
    return covers(feature.geometry, lon, lat) ? [lat, lon] : null;
  }

  function label(feature, at, pane) {
    var text = document.createElement("span");
    text.className = "base-label base-label-" + feature.properties.level;
    text.textContent = feature.properties.name;
    return L.marker(at, {
      pane: pane, interactive: false, keyboard: false,
      icon: L.divIcon({ className: "base-label-box", html: text, iconSize: null })
    });
  }

  function attach(map) {
    map.createPane("shiyuBase").style.zIndex = 250;        // over tiles (200), under the page's layers (400)
    map.createPane("shiyuBaseLabels").style.zIndex = 390;
    map.getPane("shiyuBaseLabels").style.pointerEvents = "none";
    var outlines = L.geoJSON(null, { pane: "shiyuBase", style: function () { return STYLE; } }).addTo(map);
    var names = L.layerGroup().addTo(map);
    var shown = null, timer = null, asked = 0;

    function refresh() {
      // The view's box widened to a grid of two tiles at this zoom: a small pan asks the same question, which
      // the browser answers from its cache.
      var box = map.getBounds(), zoom = Math.round(map.getZoom()), step = 720 / Math.pow(2, zoom);
      function out(value, up, limit) {
        var snapped = (up ? Math.ceil(value / step) : Math.floor(value / step)) * step;
        return Math.max(-limit, Math.min(limit, snapped)).toFixed(5);
      }
      var query = "zoom=" + zoom + "&west=" + out(box.getWest(), false, 180) + "&south=" +
        out(box.getSouth(), false, 90) + "&east=" + out(box.getEast(), true, 180) + "&north=" +
        out(box.getNorth(), true, 90);
      if (query === shown) { return; }
      var ticket = ++asked;
      fetch("/api/v1/map/base?" + query, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (layer) {
          if (!layer || ticket !== asked) { return; }  // a later view has asked since
          shown = query;
          outlines.clearLayers();
          outlines.addData(layer);
          name();
          map.getContainer().setAttribute("data-base-level", String(layer.level));
        })
        .catch(function () { /* the page's own layers still work; the next move asks again */ });
    }

    function name() {
      var view = map.getBounds();
      names.clearLayers();
      outlines.eachLayer(function (drawn) {
        var at = placeFor(drawn.feature, drawn, view);
        if (at) { names.addLayer(label(drawn.feature, at, "shiyuBaseLabels")); }
      });
    }

    function soon() { clearTimeout(timer); timer = setTimeout(function () { name(); refresh(); }, 120); }
    map.on("moveend zoomend", soon);
    map.whenReady(soon);
  }

  L.Map.addInitHook(function () {
    if (this.options.shiyuBase !== false) { attach(this); }
  });
})();
