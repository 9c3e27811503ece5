// A Plotly figure that this page draws itself, and redraws in place: the explorer's map, and the
// small maps of Inside the VAE and the lesson.
//
// st.plotly_chart mounts a new chart whenever its figure changes (another bundle, a display option)
// and draws each new chart twice: at a first size, then once more with the size it measured and its
// theme (a copy of the figure, which Plotly redraws in full). This component keeps one plot element
// for as long as the figure is on the page and calls Plotly.react on it once per new figure, so the
// map's overlay (overlay.js) and live point (live.js) keep the element they listen to.
//
// Plotly itself is Streamlit's own copy: the module that holds Streamlit's chart element sets
// `window.Plotly` when it is loaded, and it is imported from the URL Streamlit serves it at (the
// server finds its name: app/browser_assets.py), so a visitor downloads it once, whoever asks first.
// If it cannot be loaded the component says so in one line; nothing else on the page depends on it.
//
// A box drawn with the box-select tool is sent to the server as the trigger "box" ({x: [x0, x1],
// y: [y0, y1]}, map coordinates). The toolbar has a full-screen button, as st.plotly_chart's has.

import { hooks } from "./hooks.js";
import { matchScreen } from "./plotly_map.js";

// The full-screen button's icon: four corners (24 x 24).
const CORNERS = "M2 2h8v3H5v5H2zM14 2h8v8h-3V5h-5zM2 14h3v5h5v3H2zM19 14h3v8h-8v-3h5z";

let loading = null; // the promise of window.Plotly

// Streamlit's Plotly, loaded from `url` (relative to the page) unless a chart of its own did already.
export function loadPlotly(url) {
  if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
  if (!url) return Promise.reject(new Error("this Streamlit has no chart module to draw it with"));
  if (!loading) {
    loading = import(new URL(url, document.baseURI).href).then(() => {
      if (!globalThis.Plotly) throw new Error("Streamlit's chart module did not define Plotly");
      return globalThis.Plotly;
    });
    loading.catch(() => { loading = null; }); // the next update tries again
  }
  return loading;
}

// The box of a box selection as {x: [x0, x1], y: [y0, y1]}, or null (a lasso, a click, nothing).
export function selectedBox(event) {
  const range = event && event.range;
  if (!range || !Array.isArray(range.x) || !Array.isArray(range.y)) return null;
  return { x: range.x.map(Number), y: range.y.map(Number) };
}

class Figure {
  constructor(root) {
    this.box = document.createElement("div");
    this.box.className = "vae-figure";
    this.plot = document.createElement("div");
    this.plot.className = "vae-figure-plot";
    this.note = document.createElement("p");
    this.note.className = "vae-figure-note";
    this.note.setAttribute("role", "alert");
    this.note.hidden = true;
    this.box.append(this.plot, this.note);
    root.appendChild(this.box);
    this.revision = null; // of the figure drawn or being drawn
    this.drawing = Promise.resolve();
    this.drawn = false;
    this.setTrigger = () => {};
    this.fullScreenButton = {
      name: "Full screen",
      title: "Full screen (again, or Esc, to leave)",
      icon: { width: 24, height: 24, path: CORNERS },
      click: () => {
        const leave = document.fullscreenElement === this.box;
        (leave ? document.exitFullscreen() : this.box.requestFullscreen()).catch(() => {});
      },
    };
    this.configKey = null;
    this.fullConfig = null;
    let frame = 0;
    this.resized = new ResizeObserver(() => { // the box's size follows the page's layout, and full screen
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (this.drawn && this.plot.isConnected) globalThis.Plotly.Plots.resize(this.plot);
      });
    });
    this.resized.observe(this.box);
  }

  // The figure left the page (another page, view or step is shown): let its plot go.
  release() {
    this.resized.disconnect();
    if (this.drawn && globalThis.Plotly) globalThis.Plotly.purge(this.plot);
    this.revision = null;
  }

  update(data, setTriggerValue) {
    this.setTrigger = setTriggerValue;
    if (data.revision === this.revision) return; // the same figure: a rerun of the page
    this.revision = data.revision;
    this.drawing = this.drawing.then(() => this.draw(data)).catch((error) => this.fail(error));
  }

  async draw(data) {
    const Plotly = await loadPlotly(data.plotly);
    if (data.revision !== this.revision) return; // a newer figure came while Plotly was loading
    matchScreen();
    const started = performance.now();
    await Plotly.react(this.plot, data.figure.data, data.figure.layout, this.config(data.config));
    const record = hooks.figures[data.name] || (hooks.figures[data.name] = { draws: 0, ms: [] });
    record.draws += 1;
    record.ms.push(performance.now() - started);
    if (!this.drawn) {
      this.plot.on("plotly_selected", (event) => {
        const box = selectedBox(event);
        if (box) this.setTrigger("box", box);
      });
      this.drawn = true;
    }
    this.note.hidden = true;
  }

  // Plotly's config with the full-screen button. The same object while the server's config does not
  // change: Plotly.react compares the config it is given with the last (functions by identity), and
  // a config that differs makes it start the plot over (new WebGL canvases, the zoom forgotten).
  config(config) {
    const key = JSON.stringify(config);
    if (key !== this.configKey) {
      this.configKey = key;
      this.fullConfig = { ...config, modeBarButtonsToAdd: [this.fullScreenButton] };
    }
    return this.fullConfig;
  }

  fail(error) {
    this.revision = null; // the next update tries again
    this.note.textContent = `The map could not be drawn (${error && error.message ? error.message : error}). `
      + "Reload the page; if this stays, the app's Streamlit version may not match the one it was made for.";
    this.note.hidden = false;
  }
}

export function mount(component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!parentElement.__figure) parentElement.__figure = new Figure(parentElement);
  const figure = parentElement.__figure;
  figure.update(data, setTriggerValue);
  // Called before each update as well as when the component leaves: only a plot that is no longer
  // on the page is released.
  return () => setTimeout(() => {
    if (!figure.box.isConnected && parentElement.__figure === figure) {
      figure.release();
      delete parentElement.__figure;
    }
  }, 0);
}
