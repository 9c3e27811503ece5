import numpy as np
import pytest

from vae_core.geometry import traversal_points


def test_each_row_moves_one_dimension_from_minus_3_to_plus_3_spreads_and_rows_follow_the_kl():
    z = np.array([0.5, -1.0, 2.0])
    points, order = traversal_points(z, spread=[1.0, 2.0, 0.5], kl=[0.01, 3.0, 1.5])
    assert order.tolist() == [1, 2, 0]  # largest KL first
    assert points.shape == (3, 7, 3)
    np.testing.assert_allclose(points[0, :, 1], -1.0 + np.linspace(-3, 3, 7) * 2.0)
    np.testing.assert_allclose(points[1, :, 2], 2.0 + np.linspace(-3, 3, 7) * 0.5)
    for row, j in enumerate(order):
        others = [k for k in range(3) if k != j]
        np.testing.assert_array_equal(points[row][:, others], np.tile(z[others], (7, 1)))
        assert points[row, 3, j] == pytest.approx(z[j])  # the middle column is the point itself


def test_equal_kl_keeps_the_dimensions_order_and_bad_lengths_are_refused():
    _, order = traversal_points(np.zeros(4), np.ones(4), [1.0, 2.0, 1.0, 2.0])
    assert order.tolist() == [1, 3, 0, 2]
    with pytest.raises(ValueError, match="3 values"):
        traversal_points(np.zeros(3), np.ones(2), np.ones(3))
