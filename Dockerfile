# Fashion-MNIST VAE latent explorer: the Streamlit app on the shipped bundles, CPU only.
#
#   docker build -t vae-explorer .
#   docker run --rm -p 8501:8501 vae-explorer        # then open http://localhost:8501
#
# Without a Docker engine: ../shared/tools/container-check (podman; see its header).
# Uses only what python:3.11-slim and container-check's Debian-bookworm stand-in share:
# python3 3.11 on PATH, apt-get, and a venv for pip.

# ---- build stage: the pinned runtime dependencies in a virtual environment ----------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    TF_CPP_MIN_LOG_LEVEL=2

# binutils (strip) is only needed here; it never reaches the final image.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# Install, then drop what is not needed to run: the C++ headers for building custom TensorFlow
# ops (~290 MB), the libclang shared library TensorFlow only uses for code generation (~60 MB),
# the test suites inside numpy, scipy, pandas and pyarrow (~100 MB), the static symbol tables
# of TensorFlow's shared libraries (strip --strip-unneeded, ~200 MB; the dynamic symbols the
# loader needs stay), and pip/setuptools themselves (the final image installs nothing).
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
 && site=$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && rm -rf "$site/tensorflow/include" "$site/clang/native" \
 && find "$site/numpy" "$site/scipy" "$site/pandas" "$site/pyarrow" -depth -type d -name tests \
      -exec rm -rf {} + \
 && find "$site/tensorflow" -type f -name '*.so*' -exec strip --strip-unneeded {} + \
 && /opt/venv/bin/python -m pip uninstall -y -q pip setuptools
# The app's imports and a Keras forward pass must still work after the pruning (else no image).
RUN /opt/venv/bin/python -c "import numpy, keras, tensorflow, streamlit, plotly, scipy, pandas, pyarrow, PIL; \
m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(), keras.layers.Dense(2)]); \
assert m.predict(numpy.zeros((2, 28, 28, 1), 'float32'), verbose=0).shape == (2, 2); \
print('tensorflow', tensorflow.__version__, 'keras', keras.__version__, 'streamlit', streamlit.__version__)"

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
# (decoder.onnx, encoder.onnx, checked against their manifests' SHA-256), published where the
# app's static route serves them (app/static/frontend/<digest>/, app/static/models/<sha256>.onnx;
# see app/browser_assets.py); a bundle whose .onnx does not match its manifest fails the build.
COPY --from=build /opt/venv /opt/venv
RUN mkdir -p app/static/models && /opt/venv/bin/python app/browser_assets.py artifacts && rm -rf /opt/venv
RUN chown -R root:root /app && chmod -R u=rwX,go=rX /app

# ---- runtime stage: the venv, the code and the shipped bundles; nothing else -------------
FROM python:3.11-slim

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

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY --from=files /app /app
# The one folder the app may write: a bundle mounted later (-v .../artifacts:/app/artifacts:ro)
# gets its browser models published here when the app loads it. With --read-only, or if this
# fails, the app decodes on the server only. The models published above stay root-owned.
RUN chown app:app /app/app/static/models

USER app
EXPOSE 8501

# python, not curl (slim images have no curl); follows STREAMLIT_SERVER_PORT if overridden.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('STREAMLIT_SERVER_PORT', '8501'); sys.exit(0 if urllib.request.urlopen(f'http://localhost:{port}/_stcore/health', timeout=4).read() == b'ok' else 1)"]

# The port comes from STREAMLIT_SERVER_PORT (8501 above), not a --server.port flag, so that
# `docker run -e STREAMLIT_SERVER_PORT=8600 --network host ...` can move it (a flag would win).
CMD ["streamlit", "run", "app/streamlit_app.py"]
