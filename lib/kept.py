"""Files this computer keeps between servers, in the app's folder (`lib.data.app_folder()`): what a
server computed with Keras that the next one would compute the same way (the class model, the
Optimizers page's walks). Each is named by a digest of everything it depends on, written whole or
not at all (two servers may start at the same moment), and read only from a folder and a file that
belong to this user and that nobody else may write.
"""
import hashlib
import importlib.metadata
import json
import logging
import os
import tempfile

import numpy as np


def folder(name):
    """The app's folder's `name`/ (not created here)."""
    from lib import data

    return os.path.join(data.app_folder(), name)


def digest(*parts, sources=(), arrays=(), packages=("keras", "tensorflow", "numpy")):
    """A hex digest of `parts` (as JSON), the installed versions of `packages` (read without
    importing them), the text of the files `sources` and the numbers of `arrays` (with their
    dtypes and shapes)."""
    versions = [importlib.metadata.version(package) for package in packages]
    hashed = hashlib.blake2b(json.dumps([parts, versions], default=str).encode(), digest_size=16)
    for source in sources:
        with open(source, "rb") as text:
            hashed.update(text.read())
    for array in arrays:
        hashed.update(str((array.dtype, array.shape)).encode())
        hashed.update(np.ascontiguousarray(array).data)
    return hashed.hexdigest()


def private(path):
    """True when `path` belongs to this user and nobody else may write to it (a file another user
    could have put there is never loaded). Windows has no such modes: a user's folders are theirs."""
    if not hasattr(os, "getuid"):
        return os.path.exists(path)
    info = os.stat(path)
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def readable(path):
    """True when `path` and its folder exist and are private (see `private`)."""
    try:
        return private(os.path.dirname(path)) and private(path)
    except FileNotFoundError:
        return False


def write_whole(path, write, *, replaces=None):
    """Write `path` through `write(temporary_path)` and rename it into place, so a reader sees the
    old file or the new one, never half of one. Files of the folder whose names start with
    `replaces` go first (the same thing, kept for other versions). Returns whether it was written:
    a folder that cannot be written, or is not private, is no error (the next server computes again)."""
    where = os.path.dirname(path)
    temporary = None
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
        if not private(where):
            return False
        if replaces:
            for other in os.listdir(where):
                if other.startswith(replaces) and os.path.join(where, other) != path:
                    os.remove(os.path.join(where, other))
        handle, temporary = tempfile.mkstemp(dir=where, suffix=os.path.splitext(path)[1])
        os.close(handle)
        write(temporary)
        os.replace(temporary, path)
        return True
    except Exception:  # (a full disk, a folder that is a file, a library refusing to write)
        logging.getLogger(__name__).warning("%s could not be kept", path, exc_info=True)
        if temporary and os.path.exists(temporary):
            os.remove(temporary)
        return False


def write_arrays(path, entries, arrays, *, replaces=None):
    """Keep `arrays` (numbers only) with one JSON `entries` item describing each, whole (see
    `write_whole`). Returns whether it was written."""
    named = {f"array_{i}": array for i, array in enumerate(arrays)}
    return write_whole(path, lambda temporary: np.savez(temporary, entries=np.array(json.dumps(entries)), **named),
                       replaces=replaces)


def read_arrays(path, check, *, most, largest_bytes):
    """{key: array} from what `write_arrays` kept, each entry and its array passed through
    `check(entry, array)` -> (key, array), which raises for any it could not have written; {} when
    there is none to trust: missing, not private, over `largest_bytes`, over `most` arrays, an
    array without its entry, a pickle (never loaded) or one entry `check` refuses (logged)."""
    if not readable(path) or os.path.getsize(path) > largest_bytes:
        return {}
    try:
        with np.load(path, allow_pickle=False) as kept_file:
            entries = json.loads(str(kept_file["entries"]))
            if not isinstance(entries, list) or len(entries) > most or len(kept_file.files) != len(entries) + 1:
                raise ValueError(f"{len(kept_file.files)} arrays for {len(entries)} entries")
            return dict(check(entry, kept_file[f"array_{i}"]) for i, entry in enumerate(entries))
    except Exception as e:  # a torn or foreign file: computed again, and kept anew over it
        logging.getLogger(__name__).warning("%s could not be read: %s", path, e)
        return {}
