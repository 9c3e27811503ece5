"""The classroom front's files (issue 26), checked without running them: nginx accepts the
configuration `make cluster` writes (`nginx -t`), and compose.yaml and the Kubernetes manifests
have what a class needs (health probes, cookie affinity, websocket timeouts, the same front); and how
deploy/cluster.py tells that an old nginx worker can no longer take a visitor."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
sys.path.insert(0, str(DEPLOY))
from cluster import TOP, accepting, listening_sockets  # noqa: E402 - deploy/ is a folder of files, not a package


def test_nginx_accepts_the_front_as_make_cluster_writes_it(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (scripts/system-deps installs it)")
    (tmp_path / "logs").mkdir()
    site = (DEPLOY / "nginx" / "explorer.conf").read_text()
    (tmp_path / "explorer.conf").write_text(site.replace("cache/explorer ", f"{tmp_path}/cache "))
    (tmp_path / "nginx.conf").write_text(TOP.format(run=tmp_path, data=tmp_path))
    (tmp_path / "explorer-listen.conf").write_text("listen 127.0.0.1:1;\n")
    (tmp_path / "explorer-replicas.conf").write_text("server 127.0.0.1:2;\nserver 127.0.0.1:3 down;\n")
    result = subprocess.run(
        [nginx, "-e", "stderr", "-p", str(tmp_path), "-c", "nginx.conf", "-t"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    for needed in ("/_stcore/stream", "proxy_read_timeout 1h", "hash $vae_replica_key consistent", "gzip on"):
        assert needed in site


def test_compose_runs_replicas_of_the_image_behind_the_same_front():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    app, front = compose["services"]["app"], compose["services"]["front"]
    assert "_stcore/health" in " ".join(app["healthcheck"]["test"])
    mounts = {m.split(":")[0] for m in front["volumes"]}
    assert "./nginx/explorer.conf" in mounts  # the configuration make cluster uses
    assert all((DEPLOY / m).is_file() for m in mounts)
    assert front["depends_on"]["app"]["condition"] == "service_healthy"


def test_kubernetes_manifests_probe_health_and_keep_a_visitor_on_one_pod():
    docs = {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "k8s" / "explorer.yaml").read_text())}
    assert set(docs) == {"Deployment", "Service", "Ingress"}
    for doc in docs.values():
        assert doc["apiVersion"] and doc["metadata"]["name"] == "vae-explorer"
    pod = docs["Deployment"]["spec"]["template"]
    assert docs["Deployment"]["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"]
    (container,) = pod["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_stcore/health"
    assert docs["Service"]["spec"]["selector"] == pod["metadata"]["labels"]
    notes = docs["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    backend = docs["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]


def test_a_process_holding_the_listening_socket_counts_as_accepting_until_it_closes_it():
    """What make cluster waits for after a reload: no old nginx worker may still take a visitor."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    sockets = listening_sockets(port)
    assert len(sockets) == 1
    assert accepting({os.getpid()}, sockets) == {os.getpid()}
    server.close()
    assert listening_sockets(port) == set()
    assert accepting({os.getpid()}, sockets) == set()
