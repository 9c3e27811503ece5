"""Latent traversals: one row per dimension at the current point, sorted by KL, unused ones marked,
named after the known factor they carry; in the explorer (following the point) and in Compare. The
page decodes them (traversals.js); the server only when the page cannot."""

import json

import numpy as np

from app.panels.traversals import SERVER, traversal_decodes
from app.resources import bundle_version, load_explorer
from tests.app.conftest import commit, view


def _grids(at) -> list[dict]:
    """The data of every traversals grid on the page, in order."""
    return [
        json.loads(c.proto.json)
        for c in at.get("bidi_component")
        if c.proto.component_name == "vae_traversals"
    ]


def _label(row: dict) -> str:
    return "".join(text for text, _ in row["parts"])


def test_the_traversals_view_sorts_rows_by_kl_marks_unused_ones_and_names_the_factor(app_at, roots):
    at = app_at("factors", {"view": "traverse"}).run()
    assert not at.exception and not at.error
    [grid] = _grids(at)
    labels = [_label(r) for r in grid["rows"]]
    assert len(labels) == 3
    assert labels[0].startswith("z1 · KL 2.00 nats") and "follows x" in labels[0]
    assert ["x", "strong"] in grid["rows"][0]["parts"]  # the factor's name, as text, in bold
    assert [r["used"] for r in grid["rows"]] == [True, False, False]
    assert all("unused" in label for label in labels[1:])
    assert "shape" not in " ".join(labels)  # its lead (0.05) names no dimension
    assert at.query_params["view"] in ("traverse", ["traverse"])
    assert grid["follow"] and grid["model"] and grid["strips"] is None  # decoded by the page
    assert grid["z"] == list(view(at).z)
    # every row keeps the other coordinates and moves its own; the middle image is the point
    path = roots["factors"] / "sprites-3d"
    explorer = load_explorer(str(path), bundle_version(path))
    z = np.asarray(view(at).z)
    decodes = traversal_decodes(explorer, z)
    for row in decodes:
        np.testing.assert_allclose(row[3], explorer.decode(z)[0], atol=1e-5)
    assert np.abs(decodes[0][0] - decodes[0][-1]).max() > 0
    # the page's points are the server's: dimension `dim` moved by offsets times its spread
    top = grid["rows"][0]
    assert np.allclose(np.std(explorer.bundle.z_mean[:, top["dim"]]), top["spread"])
    assert grid["offsets"][0] == -grid["offsets"][-1] and len(grid["offsets"]) == decodes.shape[1]


def test_the_traversals_follow_the_committed_point(app_at):
    at = app_at("one", {"view": "traverse"}).run()
    before = _grids(at)[0]["z"]
    commit(at, (1.5, -0.5)).run()
    assert not at.exception
    [grid] = _grids(at)
    assert grid["z"] == [1.5, -0.5] != before and len(grid["rows"]) == 2


def test_the_server_decodes_the_rows_when_the_page_cannot(app_at):
    at = app_at("one", {"view": "traverse"}).run()
    at.session_state[SERVER] = {"traversals"}  # what the component's "fallback" trigger records
    at.run()
    [grid] = _grids(at)
    assert grid["model"] is None and len(grid["strips"]) == 2
    assert all(s.startswith("data:image/png;base64,") for s in grid["strips"])


def test_compare_shows_both_models_traversals_once_opened(app_at):
    at = app_at("family", {"mode": "compare", "vs": "tiny-2d-beta4"})
    at.run()
    assert not _grids(at)  # closed: nothing sent
    at.session_state["cmp_traversals_open"] = True
    at.run()
    assert not at.exception and not at.error
    grids = _grids(at)
    assert len(grids) == 2 and all(len(g["rows"]) == 2 and not g["follow"] for g in grids)
    assert grids[0]["model"]["url"] != grids[1]["model"]["url"]  # each model's own decoder
