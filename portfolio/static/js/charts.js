// Upgrade server-rendered charts to interactive vega-embed views, on request.
//
// Markup (the server SVG is the no-JS fallback and stays if anything fails):
//   <figure class="chart" data-spec-url="/u/ada/mnist/charts/1.vl.json">
//     <div class="chart-view"><img src="…/charts/1.svg"></div>
//     (charts after the first: <picture class="chart-lazy"> with data-src, and a
//     <noscript> copy; see lazyImages below)
//     <figcaption>…</figcaption>
//   </figure>
//   <script src="…/js/charts.js" data-bundle="…/vega-embed-….js" defer></script>
//
// The vega-embed bundle is about 0.9 MB, far more than the rest of the page,
// so it loads only when the visitor asks: the "Explore" button under a chart,
// or the pointer entering a chart. Once it is loaded, charts are upgraded as
// they come near the screen.
//
// CSP-friendly (script-src 'self'; style-src 'self'): no inline script, no
// eval (`ast: true` runs Vega's expression interpreter), no injected <style>
// (defaultStyle: false and our own tooltip, styled through the CSSOM), no
// innerHTML (tooltip text goes in with textContent), no network beyond the
// same-origin bundle and spec requests.
(function () {
  "use strict";

  // Static chart images after the first wait in data-src/data-srcset
  // (<picture class="chart-lazy">) and load when scrolled near: Chromium's own
  // loading="lazy" fetches images thousands of px below the fold, ~100 KB each.
  function showImage(picture) {
    picture.classList.remove("chart-lazy");
    Array.prototype.forEach.call(picture.querySelectorAll("[data-srcset]"), function (source) {
      source.setAttribute("srcset", source.getAttribute("data-srcset"));
      source.removeAttribute("data-srcset");
    });
    var img = picture.querySelector("img[data-src]");
    if (img) {
      img.setAttribute("src", img.getAttribute("data-src"));
      img.removeAttribute("data-src");
    }
  }

  // Call fn(element) once for each element, when it comes within 200 px of
  // the screen (at once where IntersectionObserver is missing).
  function whenNear(elements, fn) {
    if (!("IntersectionObserver" in window)) {
      Array.prototype.forEach.call(elements, fn);
      return;
    }
    var observer = new IntersectionObserver(
      function (entries) {
        entries.forEach(function (entry) {
          if (!entry.isIntersecting) return;
          observer.unobserve(entry.target);
          fn(entry.target);
        });
      },
      { rootMargin: "200px 0px" }
    );
    Array.prototype.forEach.call(elements, function (element) {
      observer.observe(element);
    });
  }

  function lazyImages() {
    whenNear(document.querySelectorAll("picture.chart-lazy"), showImage);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", lazyImages);
  } else {
    lazyImages();
  }

  if (!window.fetch || !window.Promise) return;
  var script = document.currentScript;
  var bundleUrl = script && script.getAttribute("data-bundle");
  var bundle = null; // a Promise once the bundle is asked for

  function loadBundle() {
    if (bundle) return bundle;
    if (typeof window.vegaEmbed === "function") return (bundle = Promise.resolve());
    bundle = new Promise(function (resolve, reject) {
      if (!bundleUrl || !sameOrigin(bundleUrl)) {
        reject(new Error("charts.js: no same-origin bundle"));
        return;
      }
      var tag = document.createElement("script");
      tag.src = bundleUrl;
      tag.onload = function () {
        if (typeof window.vegaEmbed === "function") resolve();
        else reject(new Error("charts.js: the bundle did not define vegaEmbed"));
      };
      tag.onerror = function () {
        reject(new Error("charts.js: the bundle failed to load"));
      };
      document.head.appendChild(tag);
    });
    return bundle;
  }

  var tooltip = null;

  function tooltipElement() {
    if (tooltip) return tooltip;
    tooltip = document.createElement("div");
    tooltip.className = "chart-tooltip";
    tooltip.setAttribute("aria-hidden", "true"); // the data table is the accessible version
    tooltip.hidden = true;
    var s = tooltip.style;
    s.position = "fixed";
    s.zIndex = "1000";
    s.pointerEvents = "none";
    s.maxWidth = "22rem";
    s.padding = "0.4rem 0.6rem";
    s.background = "rgba(255, 255, 255, 0.96)";
    s.color = "#222";
    s.border = "1px solid #bbb";
    s.borderRadius = "4px";
    s.boxShadow = "0 2px 6px rgba(0, 0, 0, 0.15)";
    s.font = "12px/1.4 system-ui, sans-serif";
    s.overflowWrap = "anywhere";
    document.body.appendChild(tooltip);
    return tooltip;
  }

  // vega-embed calls this with the tooltip value (an object of label -> text).
  function showTooltip(handler, event, item, value) {
    var el = tooltipElement();
    if (value == null || value === "") {
      el.hidden = true;
      return;
    }
    var rows = typeof value === "object" ? Object.keys(value) : [null];
    el.textContent = "";
    rows.forEach(function (key) {
      var line = document.createElement("div");
      if (key !== null) {
        var name = document.createElement("strong");
        name.textContent = key + ": ";
        line.appendChild(name);
      }
      line.appendChild(document.createTextNode(String(key === null ? value : value[key])));
      el.appendChild(line);
    });
    el.hidden = false;
    var x = event.clientX + 12;
    var y = event.clientY + 12;
    var box = el.getBoundingClientRect();
    if (x + box.width > window.innerWidth) x = Math.max(0, event.clientX - box.width - 12);
    if (y + box.height > window.innerHeight) y = Math.max(0, event.clientY - box.height - 12);
    el.style.left = x + "px";
    el.style.top = y + "px";
  }

  // Specs carry their data inline, so the loader refuses everything (data
  // URLs, images, links). A plain object: vl-convert's bundle exposes only
  // window.vegaEmbed (its window.vega is null), and vega-embed accepts any
  // object with a `load` method as the loader.
  function refuse() {
    return Promise.reject(new Error("charts.js: loading is disabled"));
  }
  var loader = { load: refuse, sanitize: refuse, http: refuse, file: refuse };

  var OPTIONS = {
    mode: "vega-lite",
    renderer: "svg",
    actions: false,
    ast: true,
    defaultStyle: false,
    tooltip: showTooltip,
    loader: loader,
    logLevel: 0,
  };

  // On a phone the 640 px page layout would scroll sideways: narrow it to the
  // space there is (the axes and legend take about 80 px of it).
  function fitWidth(unit, available) {
    if (typeof unit.width === "number" && available > 0 && unit.width > available - 80) {
      unit.width = Math.max(200, available - 80);
    }
  }

  function sameOrigin(url) {
    try {
      return new URL(url, document.baseURI).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  function upgrade(figure) {
    var url = figure.getAttribute("data-spec-url");
    if (!url || !sameOrigin(url) || figure.getAttribute("data-chart-state")) return;
    figure.setAttribute("data-chart-state", "loading");
    var view = figure.querySelector(".chart-view") || figure;
    loadBundle()
      .then(function () {
        return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      })
      .then(function (response) {
        if (!response.ok) throw new Error("chart spec: HTTP " + response.status);
        return response.json();
      })
      .then(function (spec) {
        delete spec.usermeta; // vega-embed reads options from it; ours are fixed
        fitWidth(spec.spec || spec, view.clientWidth);
        var target = document.createElement("div"); // vega-embed labels it from spec.description
        target.className = "chart-interactive";
        return window.vegaEmbed(target, spec, OPTIONS).then(function () {
          while (view.firstChild) view.removeChild(view.firstChild);
          view.appendChild(target);
          figure.setAttribute("data-chart-state", "interactive");
          var button = figure.querySelector(".chart-explore");
          if (button) button.parentNode.removeChild(button);
        });
      })
      .catch(function (error) {
        figure.setAttribute("data-chart-state", "static");
        if (window.console) window.console.warn("chart stays static:", error);
      });
  }

  // Upgrade every chart as it comes near the screen (a page may hold many).
  function upgradeAll(figures) {
    whenNear(figures, upgrade);
  }

  function start() {
    var figures = document.querySelectorAll("figure.chart[data-spec-url]");
    var asked = false;
    function ask(figure) {
      upgrade(figure);
      if (asked) return;
      asked = true;
      upgradeAll(figures);
    }
    Array.prototype.forEach.call(figures, function (figure) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button chart-explore";
      button.textContent = "Explore this chart (zoom and values on hover)";
      button.addEventListener("click", function () {
        ask(figure);
      });
      var caption = figure.querySelector("figcaption");
      figure.insertBefore(button, caption ? caption.nextSibling : null);
      var view = figure.querySelector(".chart-view") || figure;
      view.addEventListener(
        "pointerenter",
        function (event) {
          if (event.pointerType === "mouse" || event.pointerType === "pen") ask(figure);
        },
        { once: true }
      );
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
