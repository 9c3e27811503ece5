"""The app serves from ONNX Runtime: its process never imports TensorFlow or Keras (issue 25).

AppTest runs the whole page through every part (each view, each lesson step, Compare) in a fresh
Python process (this test process has TensorFlow loaded by other tests), which then reports which
of the two it imported. The served app is checked the same way in tests/e2e/test_first_visit.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.app.conftest import APP

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
    seen = []
    for view in ("manifold", "prior", "encode", "inside", "interpolate"):
        at.segmented_control(key="view").set_value(view).run()
        at.run()
        seen.append(view)
    at.segmented_control(key="mode").set_value("learn").run()
    for step in range(2, 7):
        at.segmented_control(key="lesson_step").set_value(step).run()
        seen.append(f"step {step}")
    at.segmented_control(key="mode").set_value("compare").run()
    seen.append("compare")
    errors = [e.value for e in at.exception]
    loaded = sorted(m for m in ("tensorflow", "keras", "tf2onnx") if m in sys.modules)
    print(json.dumps({"seen": seen, "errors": errors, "loaded": loaded}))
    """
)


def test_a_whole_visit_imports_neither_tensorflow_nor_keras(roots):
    env = dict(os.environ, VAE_ARTIFACTS=str(roots["family"]))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, APP], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == [] and len(report["seen"]) == 11
    assert report["loaded"] == [], f"the app imported {report['loaded']}"
