"""Text alternatives (app/alt.py): what a decode or a test image shows, in words, from the bundle."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from app import alt


def fake_explorer(z_mean, labels, class_names=("Trouser", "Dress", "<b>Bag</b>")):
    data = SimpleNamespace(labelled=class_names is not None)
    bundle = SimpleNamespace(
        z_mean=np.asarray(z_mean, dtype=np.float64), labels=np.asarray(labels), data=data
    )
    return SimpleNamespace(
        bundle=bundle, class_names=class_names, label_name=lambda i: class_names[labels[i]]
    )


def test_a_decode_is_named_by_where_it_is_and_what_its_nearest_images_are():
    # ten codes near the origin, eight of them Trousers; ten far away, all Dresses
    near = np.random.default_rng(0).normal(0, 0.1, (10, 2))
    far = near + 10
    explorer = fake_explorer(np.vstack([near, far]), [0] * 8 + [1] * 2 + [1] * 10)
    text = alt.decode_alt(explorer, np.array([0.0, 0.0]))
    assert text == "Decoded image at z = (0.00, 0.00): mostly Trouser (8 of 10 nearest test images)"
    assert alt.looks_like(explorer, np.array([10.0, 10.0])).startswith("mostly Dress (10 of 10")


def test_a_decode_between_two_classes_says_both():
    z = np.vstack([np.zeros((5, 2)), np.ones((5, 2)) * 0.1, np.ones((4, 2)) * 9])
    explorer = fake_explorer(z, [0] * 5 + [2] * 5 + [1] * 4)
    assert (
        alt.looks_like(explorer, np.zeros(2))
        == "between Trouser and <b>Bag</b> (5 and 5 of 10 nearest test images)"
    )


def test_without_classes_the_nearest_image_is_named():
    explorer = fake_explorer([[0, 0], [3, 3], [1, 1]], [0, 0, 0], class_names=None)
    explorer.bundle.data.labelled = False
    assert alt.looks_like(explorer, np.array([2.9, 3.0])) == "nearest test image #1"
    assert alt.test_image_alt(explorer, 1) == "Test image #1"


def test_long_points_are_shortened_and_test_images_name_their_class():
    assert alt.coords(np.arange(16) / 4) == "(0.00, 0.25, 0.50, ...)"
    explorer = fake_explorer([[0, 0], [1, 1]], [2, 1])
    assert alt.test_image_alt(explorer, 0) == "Test image #0, a <b>Bag</b>"  # literal: the page escapes alt
