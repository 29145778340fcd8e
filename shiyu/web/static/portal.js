/* Citizen portal helpers: the map pin ("click the map" or "use my location") and remembering the
   evaluation token on this device. No UI text lives here: messages come from the page (data attributes). */
(function () {
  "use strict";
  var TOKENS = "shiyu.portal.tokens";

  function remembered() {
    try { return JSON.parse(window.localStorage.getItem(TOKENS) || "{}"); } catch (e) { return {}; }
  }

  // The reporter's own device keeps code → token, so coming back to evaluate needs no copying.
  function rememberToken(root) {
    var out = root.querySelector("#evaluation-code");
    if (out) {
      var all = remembered();
      all[out.dataset.code] = out.textContent.trim();
      try { window.localStorage.setItem(TOKENS, JSON.stringify(all)); } catch (e) { /* private mode */ }
    }
    var field = root.querySelector("#e-token");
    if (field && !field.value) { field.value = remembered()[field.dataset.code] || ""; }
    var shown = root.querySelector("#device-code");
    if (shown && remembered()[shown.dataset.code]) {
      shown.querySelector("output").textContent = remembered()[shown.dataset.code];
      shown.hidden = false;
    }
  }

  // "已选定：鹭屿区 南泰街道 南华社区 第一网格": the server names the places the pin falls in.
  function where(latlng) {
    var out = document.getElementById("pin-where");
    if (!out) { return; }
    var url = "/portal/where?lon=" + latlng.lng.toFixed(6) + "&lat=" + latlng.lat.toFixed(6);
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var answer = new DOMParser().parseFromString(html, "text/html").getElementById("where-answer");
      out.replaceChildren();
      if (answer) { out.appendChild(document.adoptNode(answer)); }
    }).catch(function () { out.replaceChildren(); });
  }

  function pinMap(el) {
    if (el.dataset.ready || typeof L === "undefined") { return; }
    el.dataset.ready = "1";
    var lon = document.getElementById("p-lon"), lat = document.getElementById("p-lat");
    var status = document.getElementById("pin-status");
    var map = L.map(el, { attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
    var b = el.dataset.bounds ? JSON.parse(el.dataset.bounds) : null;
    if (b) {
      var box = [[b[1], b[0]], [b[3], b[2]]];
      L.rectangle(box, { color: "#0b5cad", weight: 1, fill: false, interactive: false }).addTo(map);
      map.fitBounds(box, { padding: [8, 8] });
    } else {
      map.setView([30, 110], 4);
    }
    var marker = null;
    function place(latlng, label) {
      lon.value = latlng.lng.toFixed(6);
      lat.value = latlng.lat.toFixed(6);
      if (marker) { marker.setLatLng(latlng); } else {
        marker = L.circleMarker(latlng, { radius: 10, color: "#b42318", weight: 3, fillColor: "#f04438",
                                          fillOpacity: 0.6 }).addTo(map);
      }
      status.textContent = label ? el.dataset.picked + " " + label : el.dataset.picked;
      where(latlng);
    }
    // A place picked from the search under the map (keyboard users, no geolocation): pin it, name it in the
    // announced status, offer it as the address, and go on to the address field.
    var results = document.getElementById("place-results");
    if (results) {
      results.addEventListener("click", function (ev) {
        var button = ev.target.closest("button.place");
        if (!button) { return; }
        var at = L.latLng(parseFloat(button.dataset.lat), parseFloat(button.dataset.lon));
        place(at, button.dataset.label);
        map.setView(at, Math.max(map.getZoom(), 15));
        var address = document.getElementById("p-address");
        if (address) {
          if (!address.value) { address.value = button.dataset.label; }
          address.focus();
        }
      });
    }
    if (lon.value && lat.value) { place(L.latLng(parseFloat(lat.value), parseFloat(lon.value))); }
    map.on("click", function (ev) { place(ev.latlng); });
    var mine = document.getElementById("use-location");
    if (mine) {
      mine.addEventListener("click", function () {
        if (!navigator.geolocation) { status.textContent = el.dataset.denied; return; }
        status.textContent = el.dataset.locating;
        navigator.geolocation.getCurrentPosition(function (pos) {
          var at = L.latLng(pos.coords.latitude, pos.coords.longitude);
          place(at);
          map.setView(at, Math.max(map.getZoom(), 15));
        }, function () { status.textContent = el.dataset.denied; }, { enableHighAccuracy: true, timeout: 15000 });
      });
    }
  }

  function init(root) {
    (root || document).querySelectorAll(".pin-map").forEach(pinMap);
    rememberToken(root || document);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (ev) { init(ev.target); });
})();
