// Reads the explorer page as the browser tests and benchmarks need it: the decoded image, the
// map's points, screen <-> map coordinates, the overlay's markers. Installed in every page with
// Playwright's add_init_script (harness/browser.py), as window.vaePage. Coordinates go through
// the app's own Plotly adapter (app/frontend/plotly_map.js, which the overlay hands to the test
// hooks as window.vaeTestHooks.map.api), so there is one implementation of the map's geometry.
// browser.py fills in __MAP__ (the map's selector), __LIVE__ (the live point panel's) and
// __DECODED_PREFIX__ (how the decoded image's caption starts) from the app's constants.
window.vaePage = (() => {
  const MAP = "__MAP__";
  const DECODED_PREFIX = "__DECODED_PREFIX__";
  const LIVE = "__LIVE__";

  const plot = () => document.querySelector(MAP);
  const hooks = () => window.vaeTestHooks;
  const api = () => hooks() && hooks().map.api;
  const loaded = (img) => !!img && img.complete && img.naturalWidth > 0;

  // The plot, its axes and its position on the screen (null until Plotly has laid it out).
  function frame() {
    const gd = plot();
    const ax = gd && api() && api().axes(gd);
    return ax ? { gd, ax, rect: gd.getBoundingClientRect() } : null;
  }

  // The live point panel (app/frontend/live.js) lives in a component's shadow root.
  function livePanel() {
    for (const host of document.querySelectorAll(`${LIVE} *`)) {
      const box = host.shadowRoot && host.shadowRoot.querySelector(".live");
      if (box) return box;
    }
    return null;
  }

  // The main decoded image: the live panel's canvas, once it shows a picture.
  function decodedImage() {
    const canvas = livePanel()?.querySelector("canvas.live-image");
    return canvas && canvas.dataset.painted ? canvas : null;
  }

  // What the decoded image shows: its pixels as a PNG data URL ("" before the first picture).
  function decodedSrc() {
    const canvas = decodedImage();
    return canvas ? canvas.toDataURL("image/png") : "";
  }

  return {
    livePanel,
    decodedImage,
    decodedSrc,
    // {src, caption} of the main decoded image (src: its pixels as a data URL), or null.
    decoded() {
      const canvas = decodedImage();
      if (!canvas) return null;
      const caption = livePanel().querySelector(".live-caption").textContent.trim();
      return caption.startsWith(DECODED_PREFIX) ? { src: decodedSrc(), caption } : null;
    },
    // True once the decoded image shows a picture other than `old` (a src from decoded()).
    decodedChanged(old) {
      const src = decodedSrc();
      return src !== "" && src !== old;
    },
    // How many pictures the live panel has painted (main image and hover previews), and when.
    paints() {
      return hooks() ? { painted: hooks().live.painted, paints: hooks().live.paints } : { painted: 0, paints: [] };
    },
    // The live panel's status line (live in the browser, or server decoding and why).
    liveStatus() {
      const status = livePanel()?.querySelector(".live-status");
      return status ? { text: status.textContent, live: status.dataset.live || "" } : null;
    },
    // The hover preview over the map: {shown, painted} (painted: a counter of its pictures).
    hoverPreview() {
      const canvas = plot()?.querySelector("canvas.vae-hover-preview");
      return canvas ? { shown: canvas.style.display !== "none", painted: Number(canvas.dataset.painted || 0),
        src: canvas.toDataURL("image/png") } : { shown: false, painted: 0, src: "" };
    },
    // True when every st.image holding an image captioned one of `captions` has all its images loaded.
    imagesLoaded(captions) {
      return captions.every((caption) => {
        const box = [...document.querySelectorAll("[data-testid=stImage]")].find((e) =>
          [...e.querySelectorAll("[data-testid=stImageCaption]")].some((c) => c.textContent.trim() === caption));
        return !!box && [...box.querySelectorAll("img")].every(loaded);
      });
    },
    // The plot area on the screen: [left, top, width, height].
    plotBox() {
      const f = frame();
      if (!f) return null;
      const a = api().plotArea(f.ax);
      return [f.rect.left + a.left, f.rect.top + a.top, a.width, a.height];
    },
    // Screen position [x, y] of map coordinates [x, y].
    toScreen([x, y]) {
      const f = frame();
      const { px, py } = api().toScreen(f.ax, x, y);
      return [f.rect.left + px, f.rect.top + py];
    },
    // Map coordinates {x, y} of a screen position, and map units per pixel {ux, uy}.
    toData([x, y]) {
      const f = frame();
      return { ...api().toData(f.ax, x - f.rect.left, y - f.rect.top), ...api().unitsPerPixel(f.ax) };
    },
    // All visible map points: map (xs, ys) and screen (px, py) positions, test index, class name; the plot box.
    mapPoints() {
      const f = frame();
      const out = { xs: [], ys: [], index: [], names: [], px: [], py: [], box: this.plotBox() };
      for (const p of api().scatterPoints(f.gd)) {
        const [sx, sy] = this.toScreen([p.x, p.y]);
        out.xs.push(p.x); out.ys.push(p.y); out.index.push(p.index); out.names.push(p.name);
        out.px.push(sx); out.py.push(sy);
      }
      return out;
    },
    // The Plotly internals the app reads that this page's Plotly lacks (empty when all are there).
    missingPlotlyInternals() {
      return api().missingInternals(plot());
    },
    // Screen positions inside the plot with no map point within `clearancePx`, on a lattice.
    emptySpots(clearancePx = 12, stepPx = 24, marginPx = 40) {
      const { px, py, box } = this.mapPoints();
      const [left, top, w, h] = box;
      const spots = [];
      for (let x = left + marginPx; x < left + w - marginPx; x += stepPx) {
        for (let y = top + marginPx; y < top + h - marginPx; y += stepPx) {
          if (px.every((p, i) => (p - x) ** 2 + (py[i] - y) ** 2 > clearancePx ** 2)) spots.push([x, y]);
        }
      }
      return spots;
    },
    // Screen position of the first marker of an overlay layer (the current point's cross), or null;
    // a marker pinned to the plot's edge (its point lies off the map) is found by its arrow.
    marker(layer) {
      const c = document.querySelector(`svg.vae-overlay g[data-layer="${layer}"] circle`);
      if (c) {
        const svg = c.ownerSVGElement.getBoundingClientRect();
        return [svg.left + Number(c.getAttribute("cx")), svg.top + Number(c.getAttribute("cy"))];
      }
      const pin = document.querySelector(`svg.vae-overlay g[data-layer="${layer}"] path[data-pinned]`);
      if (!pin) return null;
      const r = pin.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    },
  };
})();
