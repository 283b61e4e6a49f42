/* Small maps of grid pages (Leaflet, no tiles unless configured) and the report form's helpers:
   GPS with its accuracy, a tap on the map, the class filter and the nearby components. */
(function () {
  "use strict";

  function text(el, value) { if (el) { el.textContent = value; } }

  function loadNearby(lon, lat) {
    var box = document.querySelector("[data-nearby]");
    if (!box) { return; }
    var url = box.getAttribute("data-nearby") + "?lon=" + encodeURIComponent(lon) + "&lat=" + encodeURIComponent(lat) +
      "&component=" + encodeURIComponent(box.getAttribute("data-selected") || "");
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (html) { box.innerHTML = html; });
  }

  function initMap(el) {
    var config = JSON.parse(document.getElementById(el.getAttribute("data-grid-map")).textContent);
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    if (config.tiles) { L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map); }
    var features = config.grids.map(function (g) {
      return { type: "Feature", properties: { code: g.code, name: g.name }, geometry: g.geometry };
    });
    var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      style: { color: "#5c6b7a", weight: 1.5, fillColor: "#9fb3c8", fillOpacity: 0.25 },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name, { sticky: true }); }
    }).addTo(map);
    var marker = null;
    function place(lat, lon) {
      if (marker) { marker.setLatLng([lat, lon]); }
      else { marker = L.circleMarker([lat, lon], { radius: 9, color: "#b71c1c", weight: 3, fillOpacity: 0.6 }).addTo(map); }
    }
    var hasPoint = config.point && config.point[0] !== null && config.point[1] !== null;
    if (features.length) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); }
    else if (hasPoint) { map.setView([config.point[1], config.point[0]], 17); }
    else { map.setView([31.2, 121.47], 12); }
    if (hasPoint) { place(config.point[1], config.point[0]); }  // after the view: Leaflet needs one
    return { map: map, place: place, pick: config.pick };
  }

  function initReport(form, view) {
    var lon = form.querySelector("[data-lon]"), lat = form.querySelector("[data-lat]");
    var accuracy = form.querySelector("[data-accuracy]"), status = form.querySelector("[data-gps-status]");
    function setPoint(la, lo, acc, source) {
      lat.value = la.toFixed(7); lon.value = lo.toFixed(7);
      accuracy.value = acc === null ? "" : Math.round(acc);
      if (view) { view.place(la, lo); }
      text(status, source === "gps" ? "已定位，精度约 " + Math.round(acc) + " 米" : "已在地图上选定位置");
      loadNearby(lon.value, lat.value);
    }
    if (view && view.pick) {
      view.map.on("click", function (e) { setPoint(e.latlng.lat, e.latlng.lng, null, "map"); });
    }
    var gps = form.querySelector("[data-gps]");
    if (gps) {
      gps.addEventListener("click", function () {
        if (!navigator.geolocation) { text(status, "本设备不支持定位，请在地图上点选。"); return; }
        text(status, "正在定位…");
        navigator.geolocation.getCurrentPosition(function (p) {
          setPoint(p.coords.latitude, p.coords.longitude, p.coords.accuracy, "gps");
          if (view) { view.map.setView([p.coords.latitude, p.coords.longitude], Math.max(view.map.getZoom(), 17)); }
        }, function (err) {
          text(status, "无法获取定位（" + err.message + "），请在地图上点选。");
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
      });
    }
    if (lon.value && lat.value) { loadNearby(lon.value, lat.value); }

    var filter = form.querySelector("[data-class-filter]"), list = form.querySelector("[data-class-list]");
    var chosen = form.querySelector("[data-class-chosen]");
    function showChosen() {
      var r = form.querySelector("input[name=management_class]:checked");
      text(chosen, r ? "已选：" + r.parentNode.getAttribute("data-search").split(" ").slice(0, 2).join(" ") : "");
    }
    if (filter && list) {
      filter.addEventListener("input", function () {
        var q = filter.value.trim().toLowerCase(), any = false;
        list.querySelectorAll("[data-major]").forEach(function (group) {
          var visible = 0;
          group.querySelectorAll("[data-search]").forEach(function (opt) {
            var hit = !q || opt.getAttribute("data-search").toLowerCase().indexOf(q) !== -1;
            opt.hidden = !hit; if (hit) { visible += 1; }
          });
          group.hidden = visible === 0; any = any || visible > 0;
        });
        list.querySelector("[data-class-none]").hidden = any;
      });
      list.addEventListener("change", showChosen);
      showChosen();
    }
    var photo = form.querySelector("input[name=photo]"), names = form.querySelector("[data-photo-names]");
    if (photo && names) {
      photo.addEventListener("change", function () {
        var n = Array.prototype.map.call(photo.files, function (f) { return f.name; });
        if (n.length) { text(names, "已选 " + n.length + " 张：" + n.join("、")); }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var views = [];
    document.querySelectorAll("[data-grid-map]").forEach(function (el) { views.push(initMap(el)); });
    var form = document.querySelector("form.g-form");
    if (form) { initReport(form, views[0] || null); }
  });
})();
