# Fashion-MNIST VAE latent explorer: the Streamlit app on the shipped bundles, CPU only.
#
#   docker build -t vae-explorer .                          # the demo: serves, no TensorFlow inside
#   docker run --rm -p 8501:8501 vae-explorer               # then open http://localhost:8501
#   docker build --target train -t vae-explorer-train .     # the same app plus TensorFlow, to train
#
# Without a Docker engine: ../shared/tools/container-check (podman; see its header).
# Uses only what python:3.11-slim and container-check's Debian-bookworm stand-in share:
# python3 3.11 on PATH, apt-get, and a venv for pip.

# ---- the serving dependencies (requirements.txt) in a virtual environment -----------------
FROM python:3.11-slim AS serve-deps

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    TF_CPP_MIN_LOG_LEVEL=2

# binutils (strip) is only needed here; it never reaches the final images.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
COPY requirements.txt requirements-train.txt /tmp/
# Install, then drop what is never run: the test suites inside numpy, scipy, pandas, pyarrow and
# onnx (~140 MB), the Jupyter extensions of plotly and pydeck and plotly's copy of plotly.js
# (Streamlit's page brings its own; ~40 MB), pyarrow's Flight, S3/GCS/Azure/HDFS and ORC modules
# and its headers (nothing here imports them; ~50 MB), and the static symbol tables of pyarrow's
# and ONNX Runtime's libraries (strip --strip-unneeded; the dynamic symbols the loader needs stay;
# the libraries auditwheel bundled into numpy.libs and scipy.libs must not be stripped: they would
# no longer load).
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
 && site=$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && find "$site/numpy" "$site/scipy" "$site/pandas" "$site/pyarrow" -depth -type d -name tests \
      -exec rm -rf {} + \
 && rm -rf "$site/onnx/backend/test" "$site/plotly/labextension" "$site/pydeck/nbextension" \
      "$site/plotly/package_data/plotly.min.js" "$site/plotly/package_data/datasets" \
      "$site/pyarrow/include" "$site/pyarrow/src" \
 && rm -f "$site"/pyarrow/*flight* "$site"/pyarrow/_s3fs* "$site"/pyarrow/libarrow_s3* "$site"/pyarrow/_gcsfs* \
      "$site"/pyarrow/_azurefs* "$site"/pyarrow/_hdfs* "$site"/pyarrow/*orc* "$site"/pyarrow/_pyarrow_cpp_tests* \
 && find "$site/pyarrow" "$site/onnxruntime" "$site/onnx" -type f \( -name '*.so' -o -name '*.so.*' \) \
      -exec strip --strip-unneeded {} +
# What the app runs must still work after the pruning (else no image): its imports, a dataframe
# through Arrow as Streamlit sends it, a plotly figure with its template, and ONNX Runtime.
RUN /opt/venv/bin/python -c "import io, numpy, pandas, pyarrow as pa, plotly.graph_objects as go, scipy.spatial, \
streamlit, onnx, onnxruntime, PIL, jsonschema, rich; \
sink = io.BytesIO(); table = pa.Table.from_pandas(pandas.DataFrame({'a': [1, 2]})); \
w = pa.ipc.new_stream(sink, table.schema); w.write_table(table); w.close(); \
go.Figure(go.Scatter(x=[1], y=[2]), layout={'template': 'plotly_white'}).to_json(); \
s = onnxruntime.InferenceSession(onnx.helper.make_model(onnx.helper.make_graph([onnx.helper.make_node('Relu', ['x'], ['y'])], 'g', \
[onnx.helper.make_tensor_value_info('x', 1, [1])], [onnx.helper.make_tensor_value_info('y', 1, [1])]), ir_version=8, \
opset_imports=[onnx.helper.make_opsetid('', 17)]).SerializeToString()); \
assert s.run(None, {'x': numpy.array([-1.0], 'float32')})[0][0] == 0; \
print('streamlit', streamlit.__version__, 'onnxruntime', onnxruntime.__version__)"

# ---- the training dependencies (requirements-train.txt: TensorFlow, Keras, tf2onnx) on top -------
FROM serve-deps AS train-deps
# Dropped after installing: TensorFlow's C++ headers for building custom ops (~290 MB), the
# libclang library it only uses for code generation (~60 MB), and its static symbol tables.
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements-train.txt \
 && site=$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && rm -rf "$site/tensorflow/include" "$site/clang/native" \
 && find "$site/tensorflow" -type f -name '*.so*' -exec strip --strip-unneeded {} + \
 && /opt/venv/bin/python -m pip uninstall -y -q pip setuptools
RUN /opt/venv/bin/python -c "import numpy, keras, tensorflow, tf2onnx; \
m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(), keras.layers.Dense(2)]); \
assert m.predict(numpy.zeros((2, 28, 28, 1), 'float32'), verbose=0).shape == (2, 2); \
print('tensorflow', tensorflow.__version__, 'keras', keras.__version__)"

# ---- the serving environment without pip (the demo image installs nothing) ------------------
FROM serve-deps AS serve-venv
RUN /opt/venv/bin/python -m pip uninstall -y -q pip setuptools

# ---- the files the app runs, with read permissions normalised ---------------------------
# A bundle exported by hand or by an older vae_core may be mode 0700 (tempfile.mkdtemp); COPY
# keeps modes, and the unprivileged user could not read it. Staged here so the final image
# gets them in one layer: owned by root, readable (not writable) by everyone.
FROM python:3.11-slim AS files
WORKDIR /app
COPY pyproject.toml ./
COPY .streamlit/ ./.streamlit/
COPY vae_core/ ./vae_core/
COPY app/ ./app/
COPY artifacts/ ./artifacts/
# The app's browser modules (app/frontend/*.js) and the shipped bundles' browser models
# (each bundle's light copies, else its float32 models, checked against their manifests'
# SHA-256), published where the app's static route serves them (app/static/frontend/<digest>/,
# app/static/models/<sha256>.onnx; see app/browser_assets.py); a bundle whose .onnx does not
# match its manifest fails the build.
COPY --from=serve-venv /opt/venv /opt/venv
RUN mkdir -p app/static/models && /opt/venv/bin/python app/browser_assets.py artifacts && rm -rf /opt/venv
RUN chown -R root:root /app && chmod -R u=rwX,go=rX /app

# The demo serves with ONNX Runtime only: the bundles' Keras files, which only TensorFlow reads,
# stay in the train image (the bundles are otherwise whole: the app reads them as they are).
FROM files AS demo-files
RUN find artifacts -name '*.keras' -delete

# ---- what both images share: settings, the unprivileged user, the health check -----------
FROM python:3.11-slim AS runtime

# Streamlit settings (environment variables override .streamlit/config.toml):
#  headless, bound to all interfaces, port 8501; no usage statistics; no file watching;
#  XSRF protection and CORS on; uploads capped at 5 MB; app/static/ served at /app/static/ (the
#  in-browser decoder's runtime and models); users see generic error messages
#  ("none": no exception types, messages or tracebacks; those go to the container log);
#  browser.serverAddress=localhost: the startup banner shows http://localhost:8501 instead of
#  asking checkip.amazonaws.com for a public IP. Serving other machines? Set it to the host
#  name they use (-e STREAMLIT_BROWSER_SERVER_ADDRESS=explorer.example.org), which also lets
#  that origin through the CORS/WebSocket origin check.
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_BROWSER_SERVER_ADDRESS=localhost \
    STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION=true \
    STREAMLIT_SERVER_ENABLE_CORS=true \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_SERVER_MAX_UPLOAD_SIZE=5 \
    STREAMLIT_SERVER_ENABLE_STATIC_SERVING=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none

# An unprivileged user with a home for Streamlit's and Keras's small per-user files.
RUN useradd --create-home --home-dir /home/app --shell /usr/sbin/nologin --uid 10001 app

WORKDIR /app
EXPOSE 8501

# python, not curl (slim images have no curl); follows STREAMLIT_SERVER_PORT if overridden.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('STREAMLIT_SERVER_PORT', '8501'); sys.exit(0 if urllib.request.urlopen(f'http://localhost:{port}/_stcore/health', timeout=4).read() == b'ok' else 1)"]

# The port comes from STREAMLIT_SERVER_PORT (8501 above), not a --server.port flag, so that
# `docker run -e STREAMLIT_SERVER_PORT=8600 --network host ...` can move it (a flag would win).
CMD ["streamlit", "run", "app/streamlit_app.py"]

# ---- `docker build --target train .`: the app plus TensorFlow, for training and importing --------
FROM runtime AS train
COPY --from=train-deps /opt/venv /opt/venv
COPY --from=files /app /app
# The one folder the app may write: a bundle mounted later (-v .../artifacts:/app/artifacts:ro)
# gets its browser models published here when the app loads it. With --read-only, or if this
# fails, the app decodes on the server only. The models published above stay root-owned.
RUN chown app:app /app/app/static/models
USER app

# ---- the default target: the demo, served by ONNX Runtime, no TensorFlow inside -----------------
FROM runtime AS demo
COPY --from=serve-venv /opt/venv /opt/venv
COPY --from=demo-files /app /app
# As in the train image: where a bundle mounted later gets its browser models published.
RUN chown app:app /app/app/static/models
USER app
