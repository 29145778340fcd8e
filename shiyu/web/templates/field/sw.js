/* Shiyu field app service worker (version {{ version }}).
   Keeps the app shell (pages, CSS, JS, Leaflet, icons) so the app opens with no network. Pages are
   network-first (fresh data when there is a connection, the last copy when there is none); static files are
   cache-first (their version is in this file, so a new deploy installs a new worker and a new cache).
   Nothing else is touched: API calls and every non-GET request go straight to the network, because the
   queue of reports lives in the page (IndexedDB), not here. */
"use strict";
var CACHE = "shiyu-field-{{ version }}";
var SHELL = {{ shell|tojson }};
var PAGES = {{ pages|tojson }};

function keep(cache, path, response) {
  if (response && response.ok && !response.redirected && response.type === "basic") {
    return cache.put(path, response);
  }
  return Promise.resolve();
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL).then(function () {
      return Promise.all(PAGES.map(function (path) {
        return fetch(path, { credentials: "same-origin" }).then(function (r) { return keep(cache, path, r); },
                                                                  function () { return null; });
      }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("shiyu-field-") === 0 && n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) {
    return;
  }
  if (PAGES.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return fetch(request).then(function (response) {
        keep(cache, url.pathname, response.clone());
        return response;
      }, function () {
        return cache.match(url.pathname).then(function (hit) { return hit || cache.match("/field"); });
      });
    }));
    return;
  }
  if (SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(request); }));
  }
});
