/* geogrid map controls: fullscreen, measure, metric scale, north arrow, legend, and a flag
 * that tells a headless browser the map has finished drawing. Part of geogrid (MIT); needs
 * only Leaflet 1.9. */
(function (L) {
  "use strict";
  var geogrid = (window.geogrid = window.geogrid || {});

  /* Opened with #print (as geogrid's printer does), a page hides its interactive controls. */
  if (location.hash.indexOf("print") >= 0) {
    document.documentElement.classList.add("geogrid-print");
  }

  var ICONS = {
    fullscreen:
      '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"><path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5" fill="none" stroke="currentColor" stroke-width="2"/></svg>',
    measure:
      '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"><path d="M1 11 11 1l4 4L5 15z" fill="none" stroke="currentColor" stroke-width="1.5"/><path d="M4 8l2 2M6 6l1.5 1.5M8 4l2 2M10 2l1.5 1.5" stroke="currentColor" stroke-width="1.2"/></svg>',
    north:
      '<svg viewBox="0 0 40 56" width="30" height="42" aria-hidden="true"><text x="20" y="13" text-anchor="middle" font-size="13" font-weight="bold" font-family="sans-serif">N</text><path d="M20 16 31 52 20 44z" fill="#222"/><path d="M20 16 9 52 20 44z" fill="#fff" stroke="#222" stroke-width="1.2"/></svg>',
  };

  function button(container, html, title, onClick, context) {
    var link = L.DomUtil.create("a", "geogrid-button", container);
    link.href = "#";
    link.title = title;
    link.setAttribute("role", "button");
    link.setAttribute("aria-label", title);
    link.innerHTML = html;
    L.DomEvent.on(link, "click", L.DomEvent.stop);
    L.DomEvent.on(link, "click", onClick, context);
    return link;
  }

  L.Control.GeogridFullscreen = L.Control.extend({
    options: { position: "topleft", title: "全屏 Fullscreen" },
    onAdd: function (map) {
      var container = L.DomUtil.create("div", "leaflet-bar leaflet-control geogrid-fullscreen");
      button(container, ICONS.fullscreen, this.options.title, this.toggle, this);
      L.DomEvent.on(document, "fullscreenchange", this._changed, this);
      return container;
    },
    onRemove: function () {
      L.DomEvent.off(document, "fullscreenchange", this._changed, this);
    },
    toggle: function () {
      var element = this._map.getContainer();
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else if (document.fullscreenEnabled && element.requestFullscreen) {
        element.requestFullscreen().catch(this._pseudo.bind(this));
      } else {
        this._pseudo();
      }
    },
    _pseudo: function () {
      L.DomUtil.toggleClass(this._map.getContainer(), "geogrid-pseudo-fullscreen");
      this._map.invalidateSize();
    },
    _changed: function () {
      this._map.invalidateSize();
    },
  });

  /* Area of a lat/lng ring on the sphere, in square metres (the spherical-excess sum used
   * by Leaflet.draw's GeometryUtil.geodesicArea). */
  geogrid.geodesicArea = function (latlngs) {
    var radius = 6378137;
    var rad = Math.PI / 180;
    var area = 0;
    for (var i = 0; i < latlngs.length && latlngs.length > 2; i++) {
      var p1 = latlngs[i];
      var p2 = latlngs[(i + 1) % latlngs.length];
      area += (p2.lng - p1.lng) * rad * (2 + Math.sin(p1.lat * rad) + Math.sin(p2.lat * rad));
    }
    return Math.abs((area * radius * radius) / 2);
  };

  function formatLength(metres) {
    if (metres < 1000) return metres.toFixed(0) + " m";
    return (metres / 1000).toFixed(metres < 10000 ? 2 : 1) + " km";
  }

  function formatArea(squareMetres) {
    if (squareMetres < 1e6) return squareMetres.toFixed(0) + " m²";
    return (squareMetres / 1e6).toFixed(2) + " km²";
  }

  L.Control.GeogridMeasure = L.Control.extend({
    options: {
      position: "topleft",
      title: "测量距离和面积 Measure distance and area",
      hint: "单击加点，双击结束 Click to add points, double-click to finish",
      color: "#d6336c",
    },
    onAdd: function (map) {
      var container = L.DomUtil.create("div", "leaflet-bar leaflet-control geogrid-measure");
      this._button = button(container, ICONS.measure, this.options.title, this.toggle, this);
      this._panel = L.DomUtil.create("div", "geogrid-measure-panel", container);
      this._layer = L.layerGroup().addTo(map);
      this._points = [];
      this._active = false;
      L.DomEvent.disableClickPropagation(container);
      return container;
    },
    onRemove: function (map) {
      this.stop();
      map.removeLayer(this._layer);
    },
    toggle: function () {
      if (this._active || this._points.length) this.stop();
      else this.start();
    },
    start: function () {
      var map = this._map;
      this._active = true;
      this._points = [];
      L.DomUtil.addClass(map.getContainer(), "geogrid-measuring");
      L.DomUtil.addClass(this._button, "geogrid-active");
      map.doubleClickZoom.disable();
      map.on("click", this._add, this);
      map.on("dblclick", this.finish, this);
      this._show(this.options.hint);
    },
    finish: function () {
      var map = this._map;
      this._active = false;
      L.DomUtil.removeClass(map.getContainer(), "geogrid-measuring");
      map.off("click", this._add, this);
      map.off("dblclick", this.finish, this);
      map.doubleClickZoom.enable();
    },
    stop: function () {
      this.finish();
      this._points = [];
      this._layer.clearLayers();
      L.DomUtil.removeClass(this._button, "geogrid-active");
      this._show("");
    },
    /* Total length (m) of the measured line, and the area (m²) it encloses once it has three
     * points. */
    result: function () {
      var length = 0;
      for (var i = 1; i < this._points.length; i++) {
        length += this._map.distance(this._points[i - 1], this._points[i]);
      }
      var area = this._points.length > 2 ? geogrid.geodesicArea(this._points) : 0;
      return { length_m: length, area_m2: area, points: this._points.length };
    },
    _add: function (event) {
      this._points.push(event.latlng);
      this._draw();
    },
    _draw: function () {
      var style = { color: this.options.color, weight: 2, interactive: false };
      this._layer.clearLayers();
      if (this._points.length > 2) {
        L.polygon(this._points, L.extend({ dashArray: "4 4", fillOpacity: 0.08 }, style)).addTo(
          this._layer
        );
      }
      L.polyline(this._points, style).addTo(this._layer);
      for (var i = 0; i < this._points.length; i++) {
        L.circleMarker(this._points[i], L.extend({ radius: 3, fillOpacity: 1 }, style)).addTo(
          this._layer
        );
      }
      var result = this.result();
      var text = "距离 Distance: " + formatLength(result.length_m);
      if (result.area_m2 > 0) text += "<br>面积 Area: " + formatArea(result.area_m2);
      this._show(text);
    },
    _show: function (html) {
      this._panel.innerHTML = html;
      this._panel.style.display = html ? "block" : "none";
    },
  });

  L.Control.GeogridNorthArrow = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      var container = L.DomUtil.create("div", "leaflet-control geogrid-north-arrow");
      container.innerHTML = ICONS.north;
      container.title = "北 North";
      return container;
    },
  });

  L.Control.GeogridLegend = L.Control.extend({
    options: { position: "bottomright", html: "" },
    onAdd: function () {
      var container = L.DomUtil.create("div", "leaflet-control geogrid-legend");
      container.innerHTML = this.options.html;
      L.DomEvent.disableClickPropagation(container);
      L.DomEvent.disableScrollPropagation(container);
      return container;
    },
  });

  /* Add the standard controls to a map: metric scale, fullscreen, measure, and optionally a
   * north arrow and a legend (HTML built by geogrid). */
  geogrid.addControls = function (map, options) {
    options = options || {};
    L.control.scale({ imperial: false, maxWidth: 160, position: "bottomleft" }).addTo(map);
    new L.Control.GeogridFullscreen().addTo(map);
    map.geogridMeasure = new L.Control.GeogridMeasure().addTo(map);
    if (options.northArrow) new L.Control.GeogridNorthArrow().addTo(map);
    if (options.legend) new L.Control.GeogridLegend({ html: options.legend }).addTo(map);
  };

  /* Draw features from geogrid's compact GeoJSON: properties s (index into styles),
   * t (tooltip HTML) and p (popup HTML), nothing else. */
  geogrid.geoJson = function (data, styles, group, options) {
    options = options || {};
    function style(feature) {
      var chosen = styles[feature.properties.s] || {};
      return options.pane ? L.extend({ pane: options.pane }, chosen) : chosen;
    }
    if (options.pane && group._map) geogrid.panes(group._map);
    var geoOptions = {
      style: style,
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, style(feature));
      },
      onEachFeature: function (feature, layer) {
        var props = feature.properties;
        if (props.t) layer.bindTooltip(props.t, { sticky: !options.pointTooltips });
        if (props.p) layer.bindPopup(props.p, { maxWidth: 420 });
      },
    };
    if (options.pane) geoOptions.pane = options.pane;
    var drawn = [];
    if (options.casings) {
      drawn.push(L.geoJSON(data, {
        pane: options.pane || "overlayPane",
        style: function (feature) {
          return L.extend({ pane: options.pane || "overlayPane" },
                          options.casings[feature.properties.s] || {});
        },
      }).addTo(group));
    }
    var main = L.geoJSON(data, geoOptions).addTo(group);
    drawn.push(main);
    if (options.casings) roadWidthsFollowZoom(drawn, [options.casings, styles]);
    return main;
  };

  /* Roads are drawn at full width from zoom 16 on and thinner below (a quarter at zoom
   * 12 and less), so a town's streets stay a network, not a grey mesh. */
  geogrid.roadWidthFactor = function (zoom) {
    return Math.min(1, Math.max(0.25, Math.pow(2, (zoom - 16) / 2)));
  };

  function roadWidthsFollowZoom(layers, styleSets) {
    function restyle(map) {
      var factor = geogrid.roadWidthFactor(map.getZoom());
      layers.forEach(function (layer, i) {
        layer.eachLayer(function (path) {
          var base = styleSets[i][path.feature.properties.s] || {};
          if (base.weight) path.setStyle({ weight: base.weight * factor });
        });
      });
    }
    layers[0].on("add", function () {
      var map = layers[0]._map;
      restyle(map);
      map.on("zoomend", function () {
        if (layers[0]._map) restyle(map);
      });
    });
    if (layers[0]._map) layers[0].fire("add");
  }

  /* The offline base's panes: water and roads below the overlays (grids, 400), street
   * names above them and below markers (600). */
  geogrid.panes = function (map) {
    var panes = { geogridWater: 320, geogridRoads: 340, geogridStreetNames: 450 };
    Object.keys(panes).forEach(function (name) {
      if (!map.getPane(name)) {
        var pane = map.createPane(name);
        pane.style.zIndex = panes[name];
        if (name === "geogridStreetNames") pane.style.pointerEvents = "none";
      }
    });
  };

  /* Rough width (px) of a label: CJK characters are square, others about 0.6 em. */
  function textWidth(text, px) {
    var width = 0;
    for (var i = 0; i < text.length; i++) {
      width += text.charCodeAt(i) > 0x2e80 ? px : 0.6 * px;
    }
    return width;
  }

  function plainText(html) {
    var div = document.createElement("div");
    div.innerHTML = html;
    return div.textContent;
  }

  /* Cells of a spatial hash that a rotated label box covers: points sampled along its
   * axis, each with half the box's height around it. */
  function labelCells(center, angle, width, height, cell) {
    var cells = [];
    var rad = (angle * Math.PI) / 180;
    var ux = Math.cos(rad), uy = Math.sin(rad);
    var steps = Math.max(1, Math.ceil(width / (height / 2)));
    for (var i = 0; i <= steps; i++) {
      var t = -width / 2 + (width * i) / steps;
      for (var j = -1; j <= 1; j++) {
        var x = center.x + ux * t - uy * j * (height / 2);
        var y = center.y + uy * t + ux * j * (height / 2);
        var key = Math.floor(x / cell) + ":" + Math.floor(y / cell);
        if (cells.indexOf(key) < 0) cells.push(key);
      }
    }
    return cells;
  }

  /* Road names along the roads: items are [nameHtml, classRank, [[lat, lng, angle], ...]],
   * best first. On every view change the names are placed again: each item takes its
   * first candidate inside the map whose box overlaps no placed name, and a name already
   * shown nearby is not repeated. Names left out are listed in
   * window.geogridUnplacedStreets and in an element .geogrid-street-index if there is one. */
  L.GeogridRoadLabels = L.LayerGroup.extend({
    initialize: function (items, options) {
      L.LayerGroup.prototype.initialize.call(this, [], {});
      this._items = items;
      this._px = (options && options.fontPx) || 11;
      this._texts = items.map(function (item) {
        return plainText(item[0]);
      });
    },
    onAdd: function (map) {
      geogrid.panes(map);
      L.LayerGroup.prototype.onAdd.call(this, map);
      map.on("zoomend moveend resize", this._place, this);
      this._place();
    },
    onRemove: function (map) {
      map.off("zoomend moveend resize", this._place, this);
      L.LayerGroup.prototype.onRemove.call(this, map);
      this._report([], []);
    },
    _place: function () {
      var map = this._map;
      if (!map) return;
      this.clearLayers();
      var size = map.getSize();
      var taken = {};
      var shown = {}; // name -> container points where it is shown
      var placed = [], missed = {};
      var repeatPx = Math.max(320, 0.5 * Math.sqrt(size.x * size.x + size.y * size.y));
      for (var i = 0; i < this._items.length; i++) {
        var item = this._items[i], text = this._texts[i];
        var px = this._px + Math.max(0, 2 - item[1] * 0.5);
        var width = textWidth(text, px) + 6, height = px * 1.35;
        var cell = Math.max(4, height / 2);
        var done = false, visible = false;
        for (var c = 0; c < item[2].length && !done; c++) {
          var cand = item[2][c];
          var point = map.latLngToContainerPoint([cand[0], cand[1]]);
          var rad = (cand[2] * Math.PI) / 180;
          var hw = (Math.abs(Math.cos(rad)) * width + Math.abs(Math.sin(rad)) * height) / 2;
          var hh = (Math.abs(Math.sin(rad)) * width + Math.abs(Math.cos(rad)) * height) / 2;
          if (point.x < 0 || point.y < 0 || point.x > size.x || point.y > size.y) continue;
          visible = true;
          if (point.x - hw < 2 || point.y - hh < 2 || point.x + hw > size.x - 2 ||
              point.y + hh > size.y - 2) continue;
          var near = (shown[text] || []).some(function (p) {
            return p.distanceTo(point) < repeatPx;
          });
          if (near) {
            done = true; // shown close by already
            break;
          }
          var cells = labelCells(point, cand[2], width, height, cell);
          if (cells.some(function (key) { return taken[key]; })) continue;
          cells.forEach(function (key) { taken[key] = true; });
          (shown[text] = shown[text] || []).push(point);
          placed.push(text);
          L.marker([cand[0], cand[1]], {
            pane: "geogridStreetNames",
            interactive: false,
            keyboard: false,
            icon: L.divIcon({
              className: "geogrid-label-anchor",
              iconSize: null,
              html:
                '<span class="geogrid-road-name geogrid-road-rank-' + item[1] +
                '" style="font-size:' + px + "px;transform:translate(-50%,-50%) rotate(" +
                cand[2] + 'deg)">' + item[0] + "</span>",
            }),
          }).addTo(this);
          done = true;
        }
        if (visible && !done) missed[text] = true;
      }
      var left = Object.keys(missed).filter(function (name) { return !shown[name]; });
      this._report(placed, left.sort());
    },
    _report: function (placed, left) {
      window.geogridPlacedStreets = placed;
      window.geogridUnplacedStreets = left;
      var index = document.querySelector(".geogrid-street-index");
      if (index) {
        index.textContent = left.length ? "Also 另有: " + left.join(" · ") : "";
      }
    },
  });

  geogrid.roadLabels = function (items, group, options) {
    return new L.GeogridRoadLabels(items, options).addTo(group);
  };

  /* House numbers at address points, [lat, lng, numberHtml], shown from options.minZoom
   * on, only those in view (at most options.max). */
  L.GeogridHouseNumbers = L.LayerGroup.extend({
    initialize: function (items, options) {
      L.LayerGroup.prototype.initialize.call(this, [], {});
      this._items = items;
      this._minZoom = (options && options.minZoom) || 17;
      this._max = (options && options.max) || 3000;
    },
    onAdd: function (map) {
      geogrid.panes(map);
      L.LayerGroup.prototype.onAdd.call(this, map);
      map.on("zoomend moveend", this._show, this);
      this._show();
    },
    onRemove: function (map) {
      map.off("zoomend moveend", this._show, this);
      L.LayerGroup.prototype.onRemove.call(this, map);
    },
    _show: function () {
      var map = this._map;
      if (!map) return;
      this.clearLayers();
      if (map.getZoom() < this._minZoom) return;
      var view = map.getBounds().pad(0.05), count = 0;
      for (var i = 0; i < this._items.length && count < this._max; i++) {
        var item = this._items[i];
        if (!view.contains([item[0], item[1]])) continue;
        count += 1;
        L.marker([item[0], item[1]], {
          pane: "geogridStreetNames",
          interactive: false,
          keyboard: false,
          icon: L.divIcon({
            className: "geogrid-label-anchor",
            iconSize: null,
            html: '<span class="geogrid-house-number">' + item[2] + "</span>",
          }),
        }).addTo(this);
      }
    },
  });

  geogrid.houseNumbers = function (items, group, options) {
    return new L.GeogridHouseNumbers(items, options).addTo(group);
  };

  /* Put text labels (HTML) at points: items are [lat, lng, html, className, inlineStyle]. */
  geogrid.labels = function (items, group) {
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      L.marker([item[0], item[1]], {
        icon: L.divIcon({
          className: "geogrid-label-anchor",
          html:
            '<span class="geogrid-label ' + item[3] + '"' +
            (item[4] ? ' style="' + item[4] + '"' : "") + ">" + item[2] + "</span>",
          iconSize: null,
        }),
        interactive: false,
        keyboard: false,
      }).addTo(group);
    }
  };

  /* Set window.geogridReady once the map has drawn and every tile layer has finished (or
   * failed) loading, or after timeoutMs, whichever comes first. */
  geogrid.whenDrawn = function (map, timeoutMs) {
    var done = false;
    window.geogridReady = false;
    function finish(reason) {
      if (done) return;
      done = true;
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          window.geogridReady = true;
          window.geogridReadyReason = reason;
          document.documentElement.setAttribute("data-geogrid-ready", reason);
        });
      });
    }
    map.whenReady(function () {
      var pending = [];
      map.eachLayer(function (layer) {
        if (layer instanceof L.GridLayer && layer.isLoading && layer.isLoading()) pending.push(layer);
      });
      var left = pending.length;
      if (!left) return finish("drawn");
      pending.forEach(function (layer) {
        layer.once("load", function () {
          left -= 1;
          if (!left) finish("drawn");
        });
      });
      setTimeout(function () {
        finish("timeout");
      }, timeoutMs || 15000);
    });
  };
})(window.L);
