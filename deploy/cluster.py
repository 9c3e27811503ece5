"""`make cluster N=3 PORT=8080`: N replicas of the explorer and nginx in front of them, on this
machine, without containers (deploy/nginx/explorer.conf, the configuration compose.yaml uses).

Each replica is a `streamlit run` on 127.0.0.1 (ports PORT+1 ... PORT+N). Every few seconds each
replica's /_stcore/health is asked; one that fails twice (or whose process ended) is marked `down`
in the front's upstream and nginx reloads, so new visitors go to the others; it comes back when it
answers again. Ctrl-C (SIGINT) or SIGTERM stops nginx and every replica. The run folder (nginx's
configuration, logs, cache, and `replicas.json`: each replica's port, pid and health) is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "deploy" / "nginx" / "explorer.conf"
TOP = """# Written by deploy/cluster.py for one run: nginx -p {run} -c nginx.conf
worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format explorer '$remote_addr [$time_local] "$request" $status $upstream_addr '
                        'cookie=$cookie_vae_replica $request_time';
    access_log logs/access.log explorer;
    client_body_temp_path {data}/body;
    proxy_temp_path {data}/proxy;
    fastcgi_temp_path {data}/fastcgi;
    uwsgi_temp_path {data}/uwsgi;
    scgi_temp_path {data}/scgi;
    default_type application/octet-stream;
    include explorer.conf;
}}
"""


RELOAD_S = 10.0  # at most this long for nginx's new workers to start after a reload


def workers(master: int) -> set[int]:
    """The pids of nginx's worker processes (the master's children), from /proc."""
    try:
        tasks = Path(f"/proc/{master}/task").iterdir()
        return {int(c) for t in tasks for c in (t / "children").read_text().split()}
    except OSError:
        return set()


def listening_sockets(port: int) -> set[str]:
    """The inodes of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for fields in map(str.split, rows):
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                found.add(fields[9])
    return found


def accepting(pids: set[int], sockets: set[str]) -> set[int]:
    """Those of ``pids`` that still hold one of the listening ``sockets``: they may still take a new
    visitor (an old nginx worker closes its copy once the master tells it to stop)."""
    names = {f"socket:[{inode}]" for inode in sockets}
    still = set()
    for pid in pids:
        try:
            if any(os.readlink(fd) in names for fd in Path(f"/proc/{pid}/fd").iterdir()):
                still.add(pid)
        except OSError:  # it has ended (or is not ours to read)
            continue
    return still


def healthy(port: int, timeout: float = 1.5) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


class Cluster:
    def __init__(self, replicas: int, port: int, run: Path, interval: float):
        self.port, self.run, self.interval = port, run, interval
        self.ports = [port + 1 + i for i in range(replicas)]
        self.processes: dict[int, subprocess.Popen] = {}
        self.up = dict.fromkeys(self.ports, True)
        self.misses = dict.fromkeys(self.ports, 0)
        self.nginx: subprocess.Popen | None = None
        # nginx's cache and temporary files. Started as root, its workers run as nobody, who may not
        # reach into the run folder (a private temp folder): a folder of their own, removed at the end.
        self.data = Path(tempfile.mkdtemp(prefix="vae-cluster-data-"))
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.data, nobody.pw_uid, nobody.pw_gid)

    def start(self) -> None:
        (self.run / "logs").mkdir(parents=True, exist_ok=True)
        for p in self.ports:
            log = open(self.run / "logs" / f"replica-{p}.log", "w")
            self.processes[p] = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(REPO / "app" / "streamlit_app.py")]
                + ["--server.port", str(p), "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180
        while not all(healthy(p) for p in self.ports):
            dead = [p for p, proc in self.processes.items() if proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(
                    f"replica(s) on port {dead or self.ports} did not start: see {self.run / 'logs'}"
                )
            time.sleep(0.5)
        site = SITE.read_text()
        assert "proxy_cache_path cache/explorer " in site
        (self.run / "explorer.conf").write_text(  # the cache where the workers may write
            site.replace("proxy_cache_path cache/explorer ", f"proxy_cache_path {self.data}/cache ")
        )
        (self.run / "nginx.conf").write_text(TOP.format(run=self.run, data=self.data))
        (self.run / "explorer-listen.conf").write_text(f"listen {self.port};\n")
        self.write_upstream()
        self.write_state()
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        command = [nginx, "-e", "stderr", "-p", str(self.run), "-c", "nginx.conf"]
        subprocess.run([*command, "-t", "-q"], check=True)
        self.nginx = subprocess.Popen([*command, "-g", "daemon off;"])

    def write_upstream(self) -> None:
        """The front's list of replicas (read by nginx at start and on each reload)."""
        lines = [
            f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s{'' if self.up[p] else ' down'};\n"
            for p in self.ports
        ]
        (self.run / "explorer-replicas.conf").write_text("".join(lines))

    def write_state(self) -> None:
        """replicas.json: each replica's port, pid and health, as the front routes now."""
        state = {str(p): {"pid": self.processes[p].pid, "healthy": self.up[p]} for p in self.ports}
        (self.run / "replicas.json").write_text(json.dumps(state, indent=1))

    def check(self) -> None:
        """One round of health checks; reload nginx when a replica went down or came back."""
        changed = False
        for p in self.ports:
            ok = self.processes[p].poll() is None and healthy(p)
            self.misses[p] = 0 if ok else self.misses[p] + 1
            now_up = ok or (self.up[p] and self.misses[p] < 2)
            if now_up != self.up[p]:
                self.up[p], changed = now_up, True
                print(f"replica {p}: {'back' if now_up else 'down (health check failed)'}", flush=True)
        if changed:
            if not any(self.up.values()):
                print("every replica is down: nginx keeps the last one it had", flush=True)
                return
            self.write_upstream()
            old, sockets = workers(self.nginx.pid), listening_sockets(self.port)
            self.nginx.send_signal(signal.SIGHUP)  # reload: new workers read the new upstream
            deadline = time.monotonic() + RELOAD_S
            # Until a new worker runs and every old one has let go of the listening socket (on a
            # busy machine that can take a while), an old worker may still send a new visitor
            # to the replica that went down.
            while time.monotonic() < deadline and (
                not workers(self.nginx.pid) - old or accepting(old, sockets)
            ):
                time.sleep(0.05)
            self.write_state()  # replicas.json says how the front routes now

    def stop(self) -> None:
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: open websockets close
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.processes.values(), *([self.nginx] if self.nginx else [])]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.data, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy/cluster.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=3, help="how many Streamlit processes (default 3)")
    parser.add_argument("--port", type=int, default=8080, help="the front's port (default 8080)")
    parser.add_argument(
        "--run-dir", type=Path, help="nginx's configuration and logs (default: a new temp folder)"
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between health checks")
    args = parser.parse_args(argv)
    if not 1 <= args.replicas <= 32:
        parser.error("--replicas must be from 1 to 32")
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        print(
            "make cluster needs nginx: apt-get install nginx (as root), or your system's package",
            file=sys.stderr,
        )
        return 1
    run = (args.run_dir or Path(tempfile.mkdtemp(prefix="vae-cluster-"))).resolve()
    cluster = Cluster(args.replicas, args.port, run, args.interval)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        cluster.start()
        print(
            f"serving on http://localhost:{args.port} through nginx: {args.replicas} replica(s) on ports "
            f"{', '.join(map(str, cluster.ports))}; run folder {run}. Ctrl-C stops them all.",
            flush=True,
        )
        while not stopping:
            if cluster.nginx.poll() is not None:
                print(f"nginx stopped (exit {cluster.nginx.returncode}): see {run / 'logs'}", file=sys.stderr)
                return 1
            cluster.check()
            time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"make cluster: {e}", file=sys.stderr)
        return 1
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
