// The decoder (and encoder) in the browser: onnxruntime-web on one WebAssembly thread, no GPU.
//
// An ES module with no static imports, so it can be used two ways:
//  - put in front of a component's own JavaScript (app.browser_assets.live_decoder_js()), which
//    st.components.v2 loads as one module from a blob: URL;
//  - or imported from a URL like any module.
// The runtime and the models are fetched from the app's own static route (app/static/...),
// resolved against document.baseURI: a blob: module has no usable base URL of its own, and the
// app may live under a base path.
//
// Decodes follow the pointer with "latest wins": while one decode runs, only the newest request
// is kept and run next, so a fast pointer never builds a queue behind it.
//
// In a component (Python: js=live_decoder_js() + COMPONENT_JS, data={"decoder_url": url} with
// url = app.browser_assets.publish_model(...), None -> server decoding):
//
//   export default function (component) {
//     const { data, parentElement } = component;
//     const canvas = parentElement.querySelector("canvas");
//     createDecoder(data.decoder_url).then((decoder) => {
//       canvas.addEventListener("pointermove", (e) => decoder.show(canvas, zAt(e), 280));
//     }, () => { /* no WebAssembly or no model: keep server decoding, say so once */ });
//   }

export const RUNTIME_VERSION = "1.30.0";
export const RUNTIME_PATH = `app/static/vendor/onnxruntime-web-${RUNTIME_VERSION}/`;
const RUNTIME_MODULE = "ort.wasm.bundle.min.mjs";
const RUNTIME_WASM = "ort-wasm-simd-threaded.wasm";
export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

// Shared by every copy of this module on the page (each component's blob: module is a copy):
// one runtime, one session per model URL.
function shared() {
  if (!globalThis.__vaeLiveDecoder) {
    globalThis.__vaeLiveDecoder = { runtime: null, sessions: new Map(), cache: null, storing: null };
  }
  return globalThis.__vaeLiveDecoder;
}

function resolve(path, base) {
  return new URL(path, base ?? document.baseURI).href;
}

// The runtime's folder carries its version and a published model is named by its SHA-256, so
// their bytes never change under a URL. The app's static route answers a revalidation with the
// whole file again (no 304), and the browser's heuristic freshness depends on file dates, so
// they are kept in the page's Cache Storage instead: a reload transfers none of them.
const CACHE_PREFIX = "vae-live-";
const CACHE_NAME = `${CACHE_PREFIX}ort-${RUNTIME_VERSION}`;
const IMMUTABLE = /\/models\/[0-9a-f]{64}\.onnx$|\/onnxruntime-web-\d+\.\d+\.\d+\/[^/]+$/;
// These have a gzip copy beside them (URL + ".gz", made once by the app): fetched instead, it
// is sent as it is, where the plain file would be compressed by the server for every browser.
const PACKED = /\.(wasm|onnx)$/;

function openCache() {
  const S = shared();
  if (!S.cache) {
    // No Cache Storage outside secure contexts (plain http to another host): fetch every time.
    S.cache = !globalThis.caches ? Promise.resolve(null) : caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE_NAME)
        .map((n) => caches.delete(n))))
      .then(() => caches.open(CACHE_NAME))
      .catch(() => null);
  }
  return S.cache;
}

async function download(url) {
  if (globalThis.DecompressionStream && PACKED.test(new URL(url).pathname)) {
    const packed = await fetch(`${url}.gz`);
    if (packed.ok) {
      const unpacked = packed.body.pipeThrough(new DecompressionStream("gzip"));
      return new Uint8Array(await new Response(unpacked).arrayBuffer());
    }
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// The bytes behind a URL; immutable ones from (or into) Cache Storage.
export async function fetchBytes(url) {
  const cache = IMMUTABLE.test(new URL(url).pathname) ? await openCache() : null;
  const hit = cache ? await cache.match(url).catch(() => undefined) : undefined;
  if (hit) return new Uint8Array(await hit.arrayBuffer());
  const bytes = await download(url);
  // Stored in the background (the bytes are needed now); a full quota just means no caching.
  if (cache) {
    const S = shared();
    S.storing = Promise.all([S.storing, cache.put(url, new Response(bytes.slice())).catch(() => {})]);
  }
  return bytes;
}

// Resolves when everything fetched so far is in Cache Storage (tests and benchmarks wait for it).
export function stored() {
  return shared().storing ?? Promise.resolve();
}

// The onnxruntime-web module, configured once: CPU (WebAssembly) only, one thread, no worker
// proxy, its .wasm from the vendored folder (handed over as bytes, see fetchBytes).
export function loadRuntime({ base } = {}) {
  const S = shared();
  if (!S.runtime) {
    const root = resolve(RUNTIME_PATH, base);
    const module = import(new URL(RUNTIME_MODULE, root).href);
    S.runtime = Promise.all([module, fetchBytes(new URL(RUNTIME_WASM, root).href)])
      .then(([ort, wasm]) => {
        ort.env.wasm.numThreads = 1;
        ort.env.wasm.proxy = false;
        ort.env.wasm.wasmBinary = wasm;
        return ort;
      });
    S.runtime.catch(() => { S.runtime = null; }); // a failed load may be retried later
  }
  return S.runtime;
}

async function session(modelUrl, base) {
  const S = shared();
  const url = resolve(modelUrl, base);
  if (!S.sessions.has(url)) {
    const created = Promise.all([loadRuntime({ base }), fetchBytes(url)]).then(([ort, bytes]) =>
      ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" })
        .then((s) => ({ ort, session: s })));
    S.sessions.set(url, created);
    created.catch(() => S.sessions.delete(url));
  }
  return S.sessions.get(url);
}

// One model behind a lock: onnxruntime-web refuses overlapping runs of one session.
class Model {
  constructor(ort, inferenceSession) {
    this.ort = ort;
    this.session = inferenceSession;
    this.tail = Promise.resolve();
    this.runs = 0; // how many times the model actually ran (tests and benchmarks read it)
  }

  run(feeds) {
    const result = this.tail.then(async () => {
      this.runs += 1;
      return this.session.run(feeds);
    });
    this.tail = result.catch(() => {});
    return result;
  }
}

function toFloat32(values, what) {
  const out = values instanceof Float32Array ? values : Float32Array.from(values);
  for (const v of out) {
    if (!Number.isFinite(v)) throw new RangeError(`${what} must hold finite numbers, got ${v}`);
  }
  return out;
}

// "Latest wins" around an async function: at most one call runs and at most one more waits;
// a newer request replaces the waiting one, whose promise then resolves to null.
export class Latest {
  constructor(run) {
    this.run = run;
    this.pending = null; // the newest request not yet started
    this.pumping = false;
  }

  // Resolves to the result when this request ran, or null when a newer one replaced it first.
  request(input) {
    return new Promise((resolve, reject) => {
      if (this.pending) this.pending.resolve(null);
      this.pending = { input, resolve, reject };
      if (!this.pumping) this.pump();
    });
  }

  async pump() {
    this.pumping = true;
    try {
      while (this.pending) {
        const job = this.pending;
        this.pending = null;
        try {
          job.resolve(await this.run(job.input));
        } catch (e) {
          job.reject(e);
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}

export class Decoder {
  constructor(ort, inferenceSession, { input, output } = {}) {
    this.model = new Model(ort, inferenceSession);
    this.input = input ?? inferenceSession.inputNames[0];
    this.output = output ?? inferenceSession.outputNames[0];
    this.latest = new Latest((z) => this.decode(z));
  }

  get runs() {
    return this.model.runs;
  }

  // zs: n latent points, flat (n * d) or an array of n arrays; resolves to Float32Array(n * 784)
  // of Bernoulli means in [0, 1], row-major 28 x 28 per image.
  async decodeBatch(zs, n) {
    const nested = Array.isArray(zs) && zs.length > 0 && typeof zs[0] === "object"; // arrays or typed arrays
    const flat = toFloat32(nested ? zs.flatMap((z) => Array.from(z)) : zs, "z");
    const count = n ?? (nested ? zs.length : 1);
    if (count < 1 || flat.length % count !== 0 || flat.length === 0) {
      throw new RangeError(`cannot split ${flat.length} values into ${count} latent points`);
    }
    const { Tensor } = this.model.ort;
    const feeds = { [this.input]: new Tensor("float32", flat, [count, flat.length / count]) };
    const out = (await this.model.run(feeds))[this.output];
    return out.data instanceof Float32Array ? out.data : Float32Array.from(out.data);
  }

  // One latent point (length latent_dim) -> Float32Array(784).
  decode(z) {
    return this.decodeBatch(z, 1);
  }

  // "Latest wins": resolves to the pixels when this request ran, or null when a newer request
  // replaced it before it started. At most one decode runs; at most one more waits.
  decodeLatest(z) {
    let point;
    try {
      point = toFloat32(z, "z"); // a bad point is refused before it replaces a good one
    } catch (e) {
      return Promise.reject(e);
    }
    return this.latest.request(point);
  }

  // Decode z under the pointer and paint it, dropping stale requests; resolves to whether it painted.
  async show(canvas, z, sizePx) {
    const pixels = await this.decodeLatest(z);
    if (pixels) paint(canvas, pixels, sizePx);
    return pixels !== null;
  }
}

export class Encoder {
  constructor(ort, inferenceSession, { input, outputs } = {}) {
    this.model = new Model(ort, inferenceSession);
    this.input = input ?? inferenceSession.inputNames[0];
    // The Keras encoder returns [z_mean, z_log_var] in this order.
    [this.zMean, this.zLogVar] = outputs ?? inferenceSession.outputNames;
  }

  // pixels784: a 28 x 28 image, row-major, values in [0, 1] (light garment on black).
  async encode(pixels784) {
    const pixels = toFloat32(pixels784, "pixels");
    if (pixels.length !== PIXELS) throw new RangeError(`encode needs ${PIXELS} pixels (28 x 28), got ${pixels.length}`);
    const { Tensor } = this.model.ort;
    const out = await this.model.run({ [this.input]: new Tensor("float32", pixels, [1, SIDE, SIDE, 1]) });
    return { zMean: Float32Array.from(out[this.zMean].data), zLogVar: Float32Array.from(out[this.zLogVar].data) };
  }
}

// modelUrl: the published model's URL path (app.browser_assets.publish_model), relative to the
// app's base URL. names: the manifest's tensor names ({input, output}); defaults: the model's first.
export async function createDecoder(modelUrl, { base, input, output } = {}) {
  const { ort, session: s } = await session(modelUrl, base);
  return new Decoder(ort, s, { input, output });
}

export async function createEncoder(modelUrl, { base, input, outputs } = {}) {
  const { ort, session: s } = await session(modelUrl, base);
  return new Encoder(ort, s, { input, outputs });
}

// Draw 784 values in [0, 1] as a sizePx x sizePx grayscale image, crisp (nearest neighbour, the
// same sampling as the server's PIL NEAREST upscale, grey levels 255 * v rounded).
export function paint(canvas, pixels, sizePx = SIDE) {
  if (pixels.length !== PIXELS) throw new RangeError(`paint needs ${PIXELS} pixels (28 x 28), got ${pixels.length}`);
  const size = Math.max(1, Math.round(sizePx));
  if (canvas.width !== size) canvas.width = size;
  if (canvas.height !== size) canvas.height = size;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  const grey = new Uint8ClampedArray(PIXELS);
  for (let i = 0; i < PIXELS; i++) grey[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  const source = new Int32Array(size); // source column (or row) of each target column (or row)
  for (let i = 0; i < size; i++) source[i] = Math.min(SIDE - 1, Math.floor(((i + 0.5) * SIDE) / size));
  const rgba = image.data;
  for (let y = 0, o = 0; y < size; y++) {
    const row = source[y] * SIDE;
    for (let x = 0; x < size; x++, o += 4) {
      const g = grey[row + source[x]];
      rgba[o] = g;
      rgba[o + 1] = g;
      rgba[o + 2] = g;
      rgba[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  if (canvas.style) canvas.style.imageRendering = "pixelated"; // crisp if CSS scales it further (not offscreen)
}
