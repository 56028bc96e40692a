"""Why a file is refused: the errors the Save & load page translates (`save_load.error.<code>`),
and the Keras version below which no file is loaded."""
import re

from lib.errors import Refusal

MIN_KERAS_VERSION = (3, 15, 1)  # earlier Keras 3 releases have published safe_mode bypasses


class SavingError(Refusal):
    """A file this app refuses. `code` names the reason (the page translates
    `save_load.error.<code>`), `details` the values its message needs."""

    catalog = "save_load.error"


class BadArchive(SavingError):
    """Not a model file this app can read: not a zip, wrong members, truncated, too big, a zip
    bomb, a legacy `.h5`, broken JSON, weights that do not fit the config."""


class UnsafeModel(SavingError):
    """A model file this app will not load (a forbidden or unknown class or module, too many
    parameters, a loader that ran out of time or memory, a Keras too old to load safely) or a
    loaded model whose pass hit its process's limits ("run_..." codes)."""


ERROR_CODES = {
    BadArchive: ("empty", "too_big", "legacy_h5", "not_a_zip", "truncated", "too_many_members",
                 "unsafe_member_name", "duplicate_member", "encrypted", "symlink", "unsupported_compression",
                 "unexpected_member", "missing_member", "member_too_big", "too_big_unpacked", "zip_bomb",
                 "corrupt", "bad_json", "bad_config", "not_a_model", "no_input_shape", "config_mismatch",
                 "bad_weights", "h5_link", "not_weights", "weights_mismatch", "weights_missing",
                 "weights_extra", "load_failed"),
    UnsafeModel: ("forbidden_class", "unknown_class", "unknown_module", "function", "unknown_name",
                  "unsupported_config", "too_many_params", "too_many_layers", "too_large_output",
                  "keras_too_old", "too_slow", "too_much_memory", "loader_failed", "run_too_slow",
                  "run_too_much_memory", "run_failed"),
}
KINDS = {cls.__name__: cls for cls in ERROR_CODES}


def size_text(n):
    """A byte count as a student reads it: '31.2 MB', '250 KB', '64 B'."""
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def shape_text(shape):
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def plain_line(error, limit=300):
    """An exception as one readable line (no terminal colours), cut to `limit` characters."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()
    text = text[0] if text else type(error).__name__
    return text if len(text) <= limit else text[:limit] + "…"


# --- Keras version -----------------------------------------------------------------------------

def check_keras_version(version=None):
    """UnsafeModel('keras_too_old') unless Keras (the installed one, or `version`) is at least
    MIN_KERAS_VERSION: before 3.15.1, published files get past safe_mode."""
    if version is None:
        import keras

        version = keras.__version__
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", str(version))
    found = tuple(int(x) for x in match.groups()) if match else (0, 0, 0)
    if found < MIN_KERAS_VERSION:
        required = ".".join(map(str, MIN_KERAS_VERSION))
        raise UnsafeModel("keras_too_old", f"Keras {version} is older than {required}",
                          version=str(version), required=required)


