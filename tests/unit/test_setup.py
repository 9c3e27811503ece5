"""A fresh machine: what `make run` and `make test` do before any Python code of ours runs.

scripts/system-deps and the Makefile run for real, with stand-ins on PATH for `id` and
`apt-get` and a stand-in Python in the virtual environment, so nothing is installed.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = (
    "apt-get update && apt-get install -y --no-install-recommends "
    "dataset-fashion-mnist chromium fonts-liberation nginx"
)


def write_script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def machine(tmp_path):
    """A machine without Chromium, the dataset and nginx; root-ness is chosen, apt-get is a stand-in."""
    bin_dir = tmp_path / "bin"
    log = tmp_path / "apt.log"
    # apt-get records its arguments; `install` provides the packages when APT_WORKS=1.
    write_script(
        bin_dir / "apt-get",
        f"""
echo "$*" >> {log}
if [[ $1 == install && ${{APT_WORKS:-0}} == 1 ]]; then
  touch "$VAE_CHROMIUM" "$VAE_NGINX" && chmod +x "$VAE_CHROMIUM" "$VAE_NGINX"
  mkdir -p "$VAE_DEBIAN_DATASET"
fi
""",
    )
    write_script(bin_dir / "id", 'echo "${FAKE_UID:-1000}"\n')
    env = {k: v for k, v in os.environ.items() if k not in ("VAE_INSTALL_DEPS", "CI")}
    env.update(
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        VAE_CHROMIUM=str(tmp_path / "chromium"),
        VAE_DEBIAN_DATASET=str(tmp_path / "fashion-mnist"),
        VAE_NGINX=str(tmp_path / "nginx"),
    )
    return env, log


def system_deps(env: dict, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ROOT / "scripts" / "system-deps"], env={**env, **extra}, capture_output=True, text=True, timeout=60
    )


def test_nothing_to_do_when_the_packages_are_there(machine, tmp_path):
    env, log = machine
    write_script(tmp_path / "chromium", "")
    write_script(tmp_path / "nginx", "")
    (tmp_path / "fashion-mnist").mkdir()
    result = system_deps(env, FAKE_UID="0")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not log.exists()


def test_without_root_it_stops_with_the_one_command_that_installs_them(machine):
    env, log = machine
    result = system_deps(env)  # FAKE_UID 1000
    assert result.returncode == 1
    assert "Chromium" in result.stderr and "Fashion-MNIST" in result.stderr and "nginx" in result.stderr
    assert INSTALL in result.stderr
    assert not log.exists()


def test_as_root_with_apt_get_it_installs_them(machine):
    env, log = machine
    result = system_deps(env, FAKE_UID="0", APT_WORKS="1")
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "update",
        "install -y --no-install-recommends dataset-fashion-mnist chromium fonts-liberation nginx",
    ]


def test_an_install_that_leaves_them_missing_fails(machine):
    env, _ = machine
    result = system_deps(env, FAKE_UID="0", APT_WORKS="0")
    assert result.returncode == 1 and "still missing after apt-get" in result.stderr


def test_the_install_decision_can_be_overridden(machine):
    env, log = machine
    assert system_deps(env, FAKE_UID="0", VAE_INSTALL_DEPS="no").returncode == 1 and not log.exists()
    assert system_deps(env, VAE_INSTALL_DEPS="yes", APT_WORKS="1").returncode == 0 and log.exists()
    bad = system_deps(env, VAE_INSTALL_DEPS="maybe")
    assert bad.returncode == 2 and "use yes, no or auto" in bad.stderr


def fake_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A virtual environment whose python only records how it was called, with up-to-date stamps."""
    venv, calls = tmp_path / "venv", tmp_path / "python.log"
    write_script(venv / "bin" / "python", f'echo "$*" >> {calls}\n')
    for stamp in (".runtime", ".train", ".dev"):  # in the order make made them
        (venv / stamp).touch()
    return venv, calls


def make(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_test_stops_before_the_tests_when_it_cannot_install(machine, tmp_path):
    env, _ = machine
    venv, calls = fake_venv(tmp_path)
    result = make("test", f"VENV={venv}", env=env)
    assert result.returncode != 0
    assert INSTALL in result.stderr
    assert not calls.exists()  # pytest never started: no run that silently skips the browser tests


def test_make_test_installs_then_runs_the_whole_suite(machine, tmp_path):
    env, log = machine
    venv, calls = fake_venv(tmp_path)
    result = make("test", f"VENV={venv}", env={**env, "FAKE_UID": "0", "APT_WORKS": "1"})
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines()[0] == "update"
    # the linters, then every test: those without a browser on every core, then the browser ones,
    # two files at a time
    assert calls.read_text().splitlines() == [
        "-m ruff check .",
        "-m ruff format --check .",
        "-m pytest -m not browser -n auto",
        "-m pytest -m browser -n 2 --dist loadfile",
    ]


def test_make_run_set_up_says_what_it_does_and_shows_pips_progress(tmp_path):
    venv, calls = tmp_path / "venv", tmp_path / "python.log"
    # `python3 -m venv DIR` makes DIR/bin/python, which records its calls like pip's own output would show
    python3 = write_script(
        tmp_path / "python3",
        f"""
mkdir -p "$3/bin"
printf '#!/usr/bin/env bash\\necho "$*" >> {calls}\\necho "Collecting (pip output)"\\n' > "$3/bin/python"
chmod +x "$3/bin/python"
""",
    )
    result = make(f"{venv}/.runtime", f"VENV={venv}", f"PYTHON={python3}", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stdout.splitlines() if line.startswith("==> ")]
    assert [s.split(" (")[0] for s in steps] == [
        f"==> creating the virtual environment {venv}",
        "==> upgrading pip",
        "==> installing requirements.txt",
    ]
    assert "Collecting (pip output)" in result.stdout
    requirements = [c for c in calls.read_text().splitlines() if "-r requirements.txt" in c]
    assert requirements and "-q" not in requirements[0].split()  # pip's own progress is shown
    assert "requirements-train.txt" not in calls.read_text()  # make run installs no TensorFlow
    assert (venv / ".runtime").exists()
