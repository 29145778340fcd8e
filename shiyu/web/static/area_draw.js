/* Drawing on the administrator's area map (Leaflet-Geoman, vendored): reshape the selected area's boundary, or
   draw a new child area inside it. Either way the result only fills a form — the boundary proposal form, or
   the new-area form — and the server checks it (inside the parent, no overlap) and files it as a proposal
   that someone else approves. Nothing here writes anything by itself. */
(function () {
  "use strict";

  function start() {
    var tools = document.getElementById("area-draw");
    var el = tools && document.getElementById(tools.dataset.map);
    if (!el || !window.L || !L.PM) { return; }
    var status = document.getElementById("draw-status");
    var buttons = {};
    tools.querySelectorAll("[data-draw]").forEach(function (b) { buttons[b.dataset.draw] = b; });
    var mode = null, editing = null, drawnOn = null;

    function map() { return drawnOn; }

    function show(active) {
      mode = active;
      ["edit", "child"].forEach(function (name) { if (buttons[name]) { buttons[name].hidden = !!active; } });
      buttons.finish.hidden = active !== "edit";
      buttons.cancel.hidden = !active;
    }

    function say(text) { status.textContent = text || ""; }

    function stop() {
      var m = map();
      if (m) {
        m.pm.disableDraw();
        if (editing) { editing.pm.disable(); m.removeLayer(editing); editing = null; }
      }
      show(null);
    }

    function geometryOf(layer) { return JSON.stringify(layer.toGeoJSON().geometry); }

    function reshape() {
      var m = map();
      if (!m) { return; }
      show("edit");
      say(tools.dataset.hintEdit);
      fetch(tools.dataset.editSrc, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (fc) {
          var own = fc.features.filter(function (f) { return f.properties.role === "self"; });
          if (!own.length || mode !== "edit") { return; }
          editing = L.geoJSON(own[0], { style: { color: "#d97706", weight: 3, fillOpacity: 0.08 } }).addTo(m);
          editing.pm.enable({ allowSelfIntersection: false, snappable: true });
          el.dataset.drawing = "edit";
        });
    }

    function finishReshape() {
      if (!editing) { return; }
      var layer = editing.getLayers()[0];
      var box = document.getElementById("propose-box");
      document.getElementById("prop-geom").value = geometryOf(layer);
      stop();
      say(tools.dataset.readyEdit);
      if (box) { box.open = true; }
      document.getElementById("prop-note").focus();
    }

    function drawChild() {
      var m = map();
      if (!m) { return; }
      show("child");
      say(tools.dataset.hintChild);
      m.pm.enableDraw("Polygon", { snappable: true, allowSelfIntersection: false, finishOn: null });
      el.dataset.drawing = "child";
    }

    function created(ev) {
      if (mode !== "child") { return; }
      var card = document.getElementById("draw-child");
      document.getElementById("draw-geometry").value = geometryOf(ev.layer);
      ev.layer.setStyle({ color: "#d97706", dashArray: "6 5" });
      show(null);
      say(tools.dataset.readyChild);
      card.hidden = false;
      el.dataset.drawn = "1";
      document.getElementById("draw-name").focus();
    }

    if (buttons.edit) { buttons.edit.addEventListener("click", reshape); }
    if (buttons.child) { buttons.child.addEventListener("click", drawChild); }
    buttons.finish.addEventListener("click", finishReshape);
    buttons.cancel.addEventListener("click", function () { stop(); say(""); });
    // The map is made by shiyu.js once the page has loaded; this script runs before, so it waits for it.
    L.Map.addInitHook(function () {
      if (this.getContainer() !== el) { return; }
      drawnOn = this;
      this.pm.setLang(document.documentElement.lang && document.documentElement.lang.indexOf("en") === 0 ? "en" : "zh");
      this.on("pm:create", created);
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
