"""Latent traversals: one row per dimension at the current point, sorted by KL, unused ones marked,
named after the known factor they carry; in the explorer (following the point) and in Compare."""

import numpy as np

from app.panels.traversals import traversal_rows
from app.resources import bundle_version, load_explorer
from tests.app.conftest import commit, view


def _labels(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**z")]


def test_the_traversals_view_sorts_rows_by_kl_marks_unused_ones_and_names_the_factor(app_at, roots):
    at = app_at("factors", {"view": "traverse"}).run()
    assert not at.exception and not at.error
    labels = _labels(at)
    assert len(labels) == 3
    assert labels[0].startswith("**z1** · KL 2.00 nats") and "follows **x**" in labels[0]
    assert all("*unused*" in label for label in labels[1:])
    assert "shape" not in " ".join(labels)  # its lead (0.05) names no dimension
    assert at.query_params["view"] in ("traverse", ["traverse"])
    # every row keeps the other coordinates and moves its own; the middle image is the point
    path = roots["factors"] / "sprites-3d"
    explorer = load_explorer(str(path), bundle_version(path))
    z = np.asarray(view(at).z)
    rows = traversal_rows(explorer, z)
    middle = explorer.decode(z)[0]
    for row in rows:
        np.testing.assert_allclose(row.decodes[3], middle, atol=1e-5)
    assert np.abs(rows[0].decodes[0] - rows[0].decodes[-1]).max() > 0


def test_the_traversals_follow_the_point(app_at):
    at = app_at("one", {"view": "traverse"}).run()

    def strips():  # the traversals' images (media URLs, named by their content)
        return [str(i.value) for i in at.image if not i.captions or i.captions[0].startswith("unused")]

    before = strips()
    commit(at, (1.5, -0.5)).run()
    assert not at.exception
    after = strips()
    assert len(_labels(at)) == 2 and len(before) == len(after) and before != after


def test_compare_shows_both_models_traversals_once_opened(app_at):
    at = app_at("family", {"mode": "compare", "vs": "tiny-2d-beta4"})
    at.run()
    assert not _labels(at)  # closed: nothing decoded
    at.session_state["cmp_traversals_open"] = True
    at.run()
    assert not at.exception and not at.error
    assert len(_labels(at)) == 4  # two dimensions, two models
