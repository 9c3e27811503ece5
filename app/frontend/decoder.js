// The decoder (and encoder) in the browser: onnxruntime-web on one WebAssembly thread, no GPU.
//
// The runtime and the models are fetched from the app's own static route (app/static/...), at
// URLs the server gives (app.browser_assets: the runtime's folder, each published model),
// resolved against document.baseURI, since the app may live under a base path.
//
// Decodes follow the pointer with "latest wins": while one decode runs, only the newest request
// is kept and run next, so a fast pointer never builds a queue behind it.
//
// Images are row-major (H, W, C) float arrays in [0, 1]; `shape` is [H, W, C] with C = 1 (grey)
// or 3 (colour), as the bundle's manifest says.

const RUNTIME_MODULE = "ort.wasm.bundle.min.mjs";
const RUNTIME_WASM = "ort-wasm-simd-threaded.wasm";

// One runtime and one model (session and lock) per model URL for the whole page (every component
// imports this module): the live point and the traversals share the decoder's lock.
const S = { runtime: null, runtimeUrl: null, models: new Map(), cache: null, storing: null };

function resolve(path, base) {
  return new URL(path, base ?? document.baseURI).href;
}

// The runtime's folder carries its version and a published model is named by its SHA-256, so
// their bytes never change under a URL. The app's static route answers a revalidation with the
// whole file again (no 304), and the browser's heuristic freshness depends on file dates, so
// they are kept in the page's Cache Storage instead: a reload transfers none of them.
const CACHE_PREFIX = "vae-live-";
const IMMUTABLE = /\/models\/[0-9a-f]{64}\.onnx$|\/onnxruntime-web-\d+\.\d+\.\d+\/[^/]+$/;
// These have a gzip copy beside them (URL + ".gz", made once by the app): fetched instead, it
// is sent as it is, where the plain file would be compressed by the server for every browser.
const PACKED = /\.(wasm|onnx)$/;

// One cache per runtime folder (its name carries the version): older caches are dropped.
function openCache() {
  if (!S.cache) {
    const name = `${CACHE_PREFIX}${new URL(S.runtimeUrl ?? "none", document.baseURI).pathname}`;
    // No Cache Storage outside secure contexts (plain http to another host): fetch every time.
    S.cache = !globalThis.caches ? Promise.resolve(null) : caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== name)
        .map((n) => caches.delete(n))))
      .then(() => caches.open(name))
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
    S.storing = Promise.all([S.storing, cache.put(url, new Response(bytes.slice())).catch(() => {})]);
  }
  return bytes;
}

// Resolves when everything fetched so far is in Cache Storage (tests and benchmarks wait for it).
export function stored() {
  return S.storing ?? Promise.resolve();
}

// The onnxruntime-web module from the folder `runtimeUrl`, configured once: CPU (WebAssembly)
// only, one thread, no worker proxy, its .wasm handed over as bytes (see fetchBytes).
export function loadRuntime(runtimeUrl, { base } = {}) {
  if (!S.runtime) {
    const root = resolve(runtimeUrl, base);
    S.runtimeUrl = root;
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

async function model(modelUrl, runtimeUrl, base) {
  const url = resolve(modelUrl, base);
  if (!S.models.has(url)) {
    const created = Promise.all([loadRuntime(runtimeUrl, { base }), fetchBytes(url)]).then(([ort, bytes]) =>
      ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" })
        .then((s) => new Model(ort, s)));
    S.models.set(url, created);
    created.catch(() => S.models.delete(url));
  }
  return S.models.get(url);
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
  constructor(shared, { input, output } = {}) {
    this.model = shared; // a Model: other decoders of the same URL run behind the same lock
    this.input = input ?? shared.session.inputNames[0];
    this.output = output ?? shared.session.outputNames[0];
    this.latest = new Latest((z) => this.decode(z));
  }

  get runs() {
    return this.model.runs;
  }

  // zs: n latent points, flat (n * d) or an array of n arrays; resolves to a Float32Array of
  // n images of Bernoulli means in [0, 1], row-major (H, W, C) each.
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

  // One latent point (length latent_dim) -> one image, Float32Array(H * W * C).
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

}

export class Encoder {
  constructor(shared, { input, outputs, shape } = {}) {
    this.model = shared;
    this.shape = shape; // [H, W, C] of the images it reads
    this.input = input ?? shared.session.inputNames[0];
    // The Keras encoder returns [z_mean, z_log_var] in this order.
    [this.zMean, this.zLogVar] = outputs ?? shared.session.outputNames;
  }

  // image: one (H, W, C) image, row-major, values in [0, 1], as the data set's images are.
  async encode(image) {
    const pixels = toFloat32(image, "pixels");
    const size = this.shape[0] * this.shape[1] * this.shape[2];
    if (pixels.length !== size) throw new RangeError(`encode needs ${size} values (${this.shape.join(" x ")}), got ${pixels.length}`);
    const { Tensor } = this.model.ort;
    const out = await this.model.run({ [this.input]: new Tensor("float32", pixels, [1, ...this.shape]) });
    return { zMean: Float32Array.from(out[this.zMean].data), zLogVar: Float32Array.from(out[this.zLogVar].data) };
  }
}

// model: the server's description of a published model (app.resources.browser_models):
// {url, input, output(s)} with url relative to the app's base URL; runtimeUrl: the runtime's folder.
// With check = {latentDim, size}, one point is decoded first: a model that does not take latentDim
// numbers or give images of size values is refused (the page then says so and the server decodes).
export async function createDecoder(published, runtimeUrl, { base, check } = {}) {
  const shared = await model(published.url, runtimeUrl, base);
  const decoder = new Decoder(shared, { input: published.input, output: published.output });
  if (check) {
    let pixels;
    try {
      pixels = await decoder.decode(new Array(check.latentDim).fill(0));
    } catch (e) {
      throw new Error(`the browser model does not take this bundle's ${check.latentDim} numbers (${String(e.message || e).slice(0, 80)})`, { cause: e });
    }
    if (pixels.length !== check.size) {
      throw new Error(`the browser model gives ${pixels.length} values per image, this bundle's images have ${check.size}`);
    }
  }
  return decoder;
}

export async function createEncoder(published, runtimeUrl, shape, { base } = {}) {
  const shared = await model(published.url, runtimeUrl, base);
  return new Encoder(shared, { input: published.input, outputs: published.outputs, shape });
}

// Draw an image (H, W, C) of values in [0, 1] on a canvas sizePx wide (the height follows the
// aspect), crisp: nearest neighbour, the same sampling as the server's PIL NEAREST upscale,
// levels 255 * v rounded. C = 1 is grey, C = 3 colour.
export function paint(canvas, pixels, shape, sizePx) {
  const [h, w, c] = shape;
  if (pixels.length !== h * w * c) throw new RangeError(`paint needs ${h * w * c} values (${h} x ${w} x ${c}), got ${pixels.length}`);
  const width = Math.max(1, Math.round(sizePx ?? w));
  const height = Math.max(1, Math.round((width * h) / w));
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  const level = new Uint8ClampedArray(pixels.length);
  for (let i = 0; i < pixels.length; i++) level[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  const col = new Int32Array(width); // source column of each target column
  for (let x = 0; x < width; x++) col[x] = Math.min(w - 1, Math.floor(((x + 0.5) * w) / width));
  const rgba = image.data;
  for (let y = 0, o = 0; y < height; y++) {
    const row = Math.min(h - 1, Math.floor(((y + 0.5) * h) / height)) * w;
    for (let x = 0; x < width; x++, o += 4) {
      const k = (row + col[x]) * c;
      rgba[o] = level[k];
      rgba[o + 1] = level[c === 3 ? k + 1 : k];
      rgba[o + 2] = level[c === 3 ? k + 2 : k];
      rgba[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  if (canvas.style) canvas.style.imageRendering = "pixelated"; // crisp if CSS scales it further (not offscreen)
}
