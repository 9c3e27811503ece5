"""The rule for a test whose browser or data is missing: skipped on a laptop, a failure under CI.

pytest runs in a subprocess (pytester), with VAE_CHROMIUM and VAE_DEBIAN_DATASET pointing
where nothing is, as on a machine without Debian's chromium and dataset-fashion-mnist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = "apt-get install -y --no-install-recommends dataset-fashion-mnist chromium fonts-liberation"


@pytest.fixture
def bare_machine(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("VAE_CHROMIUM", str(pytester.path / "no-chromium"))
    monkeypatch.setenv("VAE_DEBIAN_DATASET", str(pytester.path / "no-fashion-mnist"))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return pytester


def test_a_missing_browser_or_dataset_skips_with_the_command_that_installs_it(bare_machine):
    bare_machine.makepyfile(
        test_it="""
        from tests import needs

        def test_page():
            needs.chromium()

        def test_data():
            needs.debian_dataset()
    """
    )
    result = bare_machine.runpytest_subprocess("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [f"*no-chromium not found*{INSTALL}*", f"*no-fashion-mnist not found*{INSTALL}*"]
    )


def test_under_ci_the_same_tests_fail(bare_machine, monkeypatch):
    monkeypatch.setenv("CI", "true")
    bare_machine.makepyfile(
        test_it="""
        import pytest
        from tests import needs

        @pytest.fixture(scope="session")
        def browser():
            return needs.chromium()

        def test_page(browser):
            pass

        def test_data():
            needs.debian_dataset()
    """
    )
    result = bare_machine.runpytest_subprocess("-rA")
    result.assert_outcomes(errors=1, failed=1)  # a failing fixture is an error: red all the same
    result.stdout.fnmatch_lines(["*CI=true: a test that cannot run fails instead of being skipped*"])
    assert result.ret != 0


@pytest.mark.parametrize(
    "path, expected",
    [
        ("tests/e2e/test_faults.py", {"errors": 1}),
        ("tests/unit/test_data.py::test_real_debian_files_load_with_digests", {"failed": 1}),
    ],
)
def test_under_ci_the_real_browser_and_data_tests_fail_without_their_packages(
    bare_machine, monkeypatch, path, expected
):
    monkeypatch.setenv("CI", "true")
    result = bare_machine.runpytest_subprocess(str(ROOT / path), "-p", "no:cacheprovider")
    result.assert_outcomes(**expected)
    monkeypatch.delenv("CI")
    bare_machine.runpytest_subprocess(str(ROOT / path), "-p", "no:cacheprovider").assert_outcomes(skipped=1)
