"""lib.plots' shared pieces, against numpy."""
import numpy as np


def test_tiles_puts_each_image_at_its_corner_in_rows_with_blank_gaps():
    from lib.plots import tiles

    images = np.arange(5 * 2 * 3, dtype="float64").reshape(5, 2, 3)
    tiled, corners = tiles(images, across=2, gap=1)
    assert tiled.shape == (3 * 2 + 2, 2 * 3 + 1)
    assert corners == [(0, 0), (0, 4), (3, 0), (3, 4), (6, 0)]
    for picture, (top, left) in zip(images, corners):
        assert np.array_equal(tiled[top:top + 2, left:left + 3], picture)
    assert np.isnan(tiled[2]).all() and np.isnan(tiled[:, 3]).all() and np.isnan(tiled[6:, 4:]).all()
    assert np.count_nonzero(~np.isnan(tiled)) == images.size
