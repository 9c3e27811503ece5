// Hooks for the browser tests and benchmarks, and only for them: counters of what was painted,
// encoded and sent, and the live objects they inspect. The app's modules write here and never
// read from it; tests/e2e/page.js and bench/ read `window.vaeTestHooks`.

function create() {
  return {
    // the current point's panel (live.js): paints of the decoded image and of the hover preview
    live: { painted: 0, paints: [], inputs: [], panel: null },
    // the drawing pad (draw.js): the pad drawn on or mounted last
    draw: null,
    // the map overlay (overlay.js): its layers and its coordinate helpers (plotly_map.js)
    map: { layers: null, api: null, drawn: 0 },
    // the latent traversals (traversals.js): grids painted, in the browser or from the server's pixels
    traversals: { painted: 0, decoded: 0, z: null, ms: [] },
    // the pickers of maps drawn as pictures (picker.js), by target: points, the one hovered, the one picked
    pickers: {},
    // the figures drawn by the page itself (figure.js), by key: how many times Plotly drew each, how long each took
    figures: {},
  };
}

export const hooks = globalThis.vaeTestHooks || (globalThis.vaeTestHooks = create());

// A fresh record of the drawing pad `pad` (when another pad is drawn on or mounted).
export function drawHooks(pad) {
  if (!hooks.draw || hooks.draw.pad !== pad) {
    hooks.draw = {
      pad, live: null, encodes: 0, requests: 0, encoded: 0, decodes: 0, sent: 0, encodeMs: [],
      mu: null, sigma: null, logVar: null, ellipse: null, dpr: 1,
    };
  }
  return hooks.draw;
}
