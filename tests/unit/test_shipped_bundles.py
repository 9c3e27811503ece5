"""The shipped bundles stay reproducible: the command in each manifest rebuilds its config and network."""

import dataclasses
import json
import shlex
from pathlib import Path

import pytest

from vae_core.cli import build_parser, config_from_args
from vae_core.commands import FROM_DATA
from vae_core.config import VAEConfig
from vae_core.model import build_decoder, build_encoder

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
MANIFESTS = sorted(ARTIFACTS.glob("*/manifest.json"))


def test_the_default_and_the_16d_bundle_ship():
    assert {p.parent.name for p in MANIFESTS} >= {"fashion-mnist-2d", "fashion-mnist-16d"}


@pytest.mark.parametrize("manifest_path", MANIFESTS, ids=lambda p: p.parent.name)
def test_the_recorded_command_rebuilds_the_same_config_and_network(manifest_path):
    manifest = json.loads(manifest_path.read_text())
    argv = shlex.split(manifest["command"])
    assert argv[:4] == ["python", "-m", "vae_core", "train"]
    config = config_from_args(build_parser().parse_args(argv[3:]))
    if "--data" in argv:  # its own data set: the shape and the training images' count came from it
        saved = VAEConfig.from_dict(manifest["config"])
        config = dataclasses.replace(config, **{f: getattr(saved, f) for f in FROM_DATA})
    # A field added to the config later is absent from older manifests: it had its default then.
    assert config.to_dict() == VAEConfig.from_dict(manifest["config"]).to_dict()
    assert set(manifest["config"]) <= set(config.to_dict())
    for part, build in (("encoder", build_encoder), ("decoder", build_decoder)):
        assert build(config).count_params() == manifest["architecture"][part]["parameters"], part


def shape(architecture: dict) -> dict:
    """An architecture without Keras's numbered layer names (conv2d_7 in one process, conv2d_3 in
    another): each part's parameter count and its layers' classes, in order."""
    return {
        part: (spec["parameters"], [layer.split(":")[0] for layer in spec["layers"]])
        for part, spec in architecture.items()
        if isinstance(spec, dict)
    } | {"preset": architecture["preset"]}


def test_the_lessons_autoencoder_and_beta_4_model_share_the_defaults_architecture():
    manifests = {p.parent.name: json.loads(p.read_text()) for p in MANIFESTS}
    default = manifests["fashion-mnist-2d"]
    autoencoder, beta4 = manifests["fashion-mnist-2d-autoencoder"], manifests["fashion-mnist-2d-beta4"]
    assert autoencoder["config"]["deterministic"] and autoencoder["config"]["beta"] == 0
    assert beta4["config"]["beta"] == 4 and not beta4["config"].get("deterministic", False)
    for other in (autoencoder, beta4):
        assert other["config"]["preset"] == default["config"]["preset"] == "default"
        assert other["latent_dim"] == 2
        assert shape(other["architecture"]) == shape(default["architecture"])


def test_the_sprites_bundles_carry_their_factors_and_disentanglement():
    manifests = {p.parent.name: json.loads(p.read_text()) for p in MANIFESTS}
    sprites = {name: m for name, m in manifests.items() if name.startswith("sprites-")}
    assert "sprites-vae" in sprites and any(n.startswith("sprites-beta") for n in sprites)
    for name, manifest in sprites.items():
        factors = manifest["data"]["factors"]
        assert list(factors) == ["shape", "scale", "rotation", "x", "y"], name
        assert factors["shape"] == {"kind": "categorical", "names": ["square", "ellipse", "heart"]}
        assert manifest["metrics"]["mig"] == pytest.approx(
            sum(f["gap"] for f in manifest["metrics"]["disentanglement"]["factors"].values()) / 5, abs=1e-3
        )
        assert manifest["config"]["latent_dim"] == 6 and manifest["config"]["preset"] == "mlp"
    budgets = {(m["config"]["epochs"], m["config"]["batch_size"]) for m in sprites.values()}
    assert len(budgets) == 1  # the same training budget: only beta differs
