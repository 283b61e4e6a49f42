/* The grid map: unit grids from their GeoJSON, reports as circle markers coloured by step.
   No tile layer unless the page names one (GRID_MAP_TILE_URL). */
(function () {
  "use strict";
  var box = document.getElementById("grid-map");
  if (!box || typeof L === "undefined") return;
  var status = document.getElementById("map-status");
  var form = document.getElementById("map-filters");
  var map = L.map(box, { preferCanvas: true }).setView([31.2, 121.48], 14);
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }
  var grids = L.layerGroup().addTo(map);
  var reports = L.layerGroup().addTo(map);
  var fitted = false;

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span.innerHTML;
  }

  function popup(p) {
    return "<strong>" + text(p.number) + "</strong><br>" + text(p.class_code) + " " + text(p.class_name) +
      "<br>" + text(p.step_label) + " · " + text(p.created_at) +
      '<br><a href="' + encodeURI(p.url) + '">' + text(box.dataset.open) + "</a>";
  }

  function load() {
    var params = new URLSearchParams(new FormData(form));
    status.textContent = box.dataset.loading;
    fetch(box.dataset.url + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        grids.clearLayers();
        reports.clearLayers();
        var gridLayer = L.geoJSON(data.grids, {
          style: { color: "#1e88e5", weight: 1, fillOpacity: 0.04 },
          onEachFeature: function (f, layer) {
            layer.bindTooltip(f.properties.name + " " + f.properties.code, { sticky: true });
          }
        }).addTo(grids);
        L.geoJSON(data.reports, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, {
              radius: 6, color: "#333", weight: 1, fillColor: f.properties.colour, fillOpacity: 0.9
            });
          },
          onEachFeature: function (f, layer) { layer.bindPopup(popup(f.properties)); }
        }).addTo(reports);
        if (!fitted && gridLayer.getLayers().length) {
          map.fitBounds(gridLayer.getBounds());
          fitted = true;
        }
        var shown = box.dataset.shown
          .replace("%(grids)s", data.grids.features.length)
          .replace("%(reports)s", data.reports.features.length);
        status.textContent = shown + (data.capped ? " " + data.message : "");
      })
      .catch(function () { status.textContent = box.dataset.failed; });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  load();
})();
