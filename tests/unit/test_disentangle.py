import numpy as np
import pytest

from vae_core.disentangle import codes, discretise, entropy, mig, mutual_information


def test_mutual_information_of_hand_computed_cases():
    a = np.array([0, 0, 1, 1])
    assert mutual_information(a, a) == pytest.approx(np.log(2))  # a copy: all of H(a)
    assert mutual_information(a, np.array([0, 1, 0, 1])) == pytest.approx(0.0)  # independent
    assert entropy(np.array([0, 1, 2, 3])) == pytest.approx(np.log(4))
    # a XOR-free half: b tells a's value in one of its two states only
    b = np.array([0, 1, 1, 1])  # p(a, b): (0,0) 1/4, (0,1) 1/4, (1,1) 1/2
    expected = (
        0.25 * np.log(0.25 / (0.5 * 0.25))
        + 0.25 * np.log(0.25 / (0.5 * 0.75))
        + 0.5 * np.log(0.5 / (0.5 * 0.75))
    )
    assert mutual_information(a, b) == pytest.approx(expected)


def test_discretise_and_codes():
    assert discretise(np.array([[0.0], [0.5], [1.0]]), bins=2).ravel().tolist() == [0, 1, 1]
    assert discretise(np.array([[3.0], [3.0]])).ravel().tolist() == [0, 0]  # a constant column
    assert codes(np.array([0.3, 0.1, 0.3])).tolist() == [1, 0, 1]
    assert codes(np.array(["b", "a"])).tolist() == [1, 0]


def test_a_latent_that_copies_one_factor_scores_high_and_noise_scores_near_zero():
    rng = np.random.default_rng(0)
    n = 20_000
    x = rng.integers(0, 16, n).astype(float)  # a factor on a grid of 16 values
    shape = rng.integers(0, 3, n)
    noise = rng.normal(size=(n, 3))
    copied = np.column_stack([noise[:, 0], x, noise[:, 1]])  # dimension 1 is x exactly
    result = mig(copied, {"x": x})
    assert result["factors"]["x"]["dim"] == 1
    assert result["factors"]["x"]["share"] == pytest.approx(1.0, abs=0.01)
    assert result["mig"] > 0.95
    assert mig(noise, {"x": x, "shape": shape})["mig"] < 0.02
    # one dimension carrying two factors: each factor's gap is still measured per factor
    both = np.column_stack([x + 16 * shape, noise[:, 0]])
    assert mig(both, {"x": x, "shape": shape})["factors"]["shape"]["dim"] == 0
    # two dimensions carrying x equally: no gap
    twice = np.column_stack([x, x, noise[:, 0]])
    assert mig(twice, {"x": x})["mig"] == pytest.approx(0.0, abs=1e-9)


def test_constant_factors_are_left_out():
    z = np.random.default_rng(1).normal(size=(100, 2))
    result = mig(z, {"colour": np.zeros(100)})
    assert result["mig"] is None and result["factors"] == {}
