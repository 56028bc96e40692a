"""A `.keras` file read as a zip, without loading anything: its members and their sizes, its
metadata and config (checked by `config.check_config`). Sizes are decimal (1 MB = 1,000,000 bytes),
as the messages say them."""
import dataclasses
import io
import json
import re
import zipfile

from lib.saving.config import ModelOutline, check_config
from lib.saving.refusals import BadArchive, size_text

# The biggest model the app lets anyone build has MAX_PARAMS = 2,000,000 parameters: 8 MB of
# float32 weights. A student who trains such a model with Adam and saves it gets two more copies
# (Adam's moment estimates) in the weights file: measured 23.6 MB for 1.96 M parameters. 32 MB
# takes that with room for HDF5's overhead, and nothing much bigger.
MAX_UPLOAD_BYTES = 32_000_000  # the file as uploaded (.keras or .weights.h5)
MAX_WEIGHTS_BYTES = 32_000_000  # model.weights.h5 inside a .keras, unpacked
# Keras writes ~600 bytes of config per layer (measured: 4,726 bytes for the 8-layer Overfitting
# model); a 20-layer stack is ~12 KB. 250 KB is 20x that, and bounds the JSON parser's work.
MAX_CONFIG_BYTES = 250_000
MAX_METADATA_BYTES = 4_000  # Keras writes 64 bytes: {"keras_version": ..., "date_saved": ...}
MAX_UNPACKED_BYTES = MAX_WEIGHTS_BYTES + MAX_CONFIG_BYTES + MAX_METADATA_BYTES
# Keras stores members uncompressed (ratio 1.0). Re-zipped by hand, float weights shrink ~1.1x
# and JSON ~10x; a zip bomb of zeros is ~1000x. A member over 1 MB may expand at most 100x (a
# tiny member may be mostly padding and compress far more, harmlessly: its size is capped anyway).
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR_BYTES = 1_000_000
# A central-directory record per member: Keras writes 3. Counted in the raw bytes before Python's
# zipfile builds an object per record, so a directory of a million entries costs nothing.
MAX_DIRECTORY_RECORDS = 1_000


ALLOWED_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")
_MEMBER_LIMITS = {"metadata.json": MAX_METADATA_BYTES, "config.json": MAX_CONFIG_BYTES,
                  "model.weights.h5": MAX_WEIGHTS_BYTES}
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
_ZIP_DIRECTORY = b"PK\x01\x02"

# --- Inspecting a .keras file without loading it -----------------------------------------------

@dataclasses.dataclass(frozen=True)
class Member:
    """One file inside the zip: its name, unpacked size and size as stored."""
    name: str
    size: int
    compressed_size: int


@dataclasses.dataclass(frozen=True)
class ArchiveInfo:
    """What `inspect_archive` found in a `.keras` file (nothing of it was loaded)."""
    size: int  # the file as uploaded
    members: tuple  # Member, in the zip's order
    metadata: dict  # metadata.json as written: keras_version, date_saved
    config: dict  # config.json
    model: ModelOutline

    @property
    def unpacked_size(self):
        return sum(m.size for m in self.members)

    @property
    def keras_version(self):
        return self.metadata.get("keras_version")

    @property
    def date_saved(self):
        return self.metadata.get("date_saved")

    @property
    def layer_classes(self):
        return self.model.layer_classes

    @property
    def params(self):
        return self.model.params


def as_bytes(data, limit):
    """The upload as bytes: bytes-like, or a file-like object read with a hard cap."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "getvalue"):
        data = data.getvalue()
        return bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else b""
    if hasattr(data, "read"):
        return data.read(limit + 1)
    raise TypeError(f"expected the file's bytes, got {type(data).__name__}")


def _is_hdf5(data):
    """HDF5's signature, at 0 or at a user-block offset (512, 1024, 2048, ...)."""
    offset = 0
    while offset + len(HDF5_SIGNATURE) <= len(data):
        if data[offset:offset + len(HDF5_SIGNATURE)] == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False


def check_upload_size(data, limit):
    if not data:
        raise BadArchive("empty", "the file is empty")
    if len(data) > limit:
        raise BadArchive("too_big", f"the file is {len(data):,} bytes; the limit is {limit:,}",
                         size=size_text(len(data)), limit=size_text(limit))


def _unsafe_name(name):
    """A member name that could point outside a folder: absolute, '..', backslashes, drive letters."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part in ("", ".", "..") for part in name.split("/"))


def inspect_archive(data):
    """Describe a `.keras` file without loading it: members and sizes, metadata, config, layer
    classes and parameter count (worked out from the config). BadArchive or UnsafeModel when this
    app would not load it. Nothing is deserialised and no weight is read before the config passed."""
    data = as_bytes(data, MAX_UPLOAD_BYTES)
    check_upload_size(data, MAX_UPLOAD_BYTES)
    if not data.startswith((_ZIP_LOCAL, _ZIP_EMPTY)):  # also refuses a zip hidden behind an image
        # (Only here: a .keras stores model.weights.h5 uncompressed, so HDF5's signature may sit
        # at a user-block offset inside a perfectly good zip.)
        if _is_hdf5(data):
            raise BadArchive("legacy_h5", "an HDF5 (.h5) file, not a .keras zip")
        raise BadArchive("not_a_zip", "not a zip file")
    if data.count(_ZIP_DIRECTORY) > MAX_DIRECTORY_RECORDS:
        raise BadArchive("too_many_members", "too many members", limit=MAX_DIRECTORY_RECORDS)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # BadZipFile, and the odd ValueError/struct.error of a mangled directory
        raise BadArchive("truncated", "a zip whose end is missing or broken")
    with archive:
        infos = archive.infolist()
        members = _check_members(infos)
        # The small members first: the config is checked before a byte of the weights is unpacked.
        metadata = parse_json(read_member(archive, members["metadata.json"]), "metadata.json")
        metadata = {k: str(v)[:100] for k, v in metadata.items() if isinstance(v, (str, int, float))}
        config = parse_json(read_member(archive, members["config.json"]), "config.json")
        outline = check_config(config)
        weights = read_member(archive, members["model.weights.h5"])
    if not weights.startswith(HDF5_SIGNATURE):
        raise BadArchive("bad_weights", "model.weights.h5 is not an HDF5 file", name="model.weights.h5")
    return ArchiveInfo(len(data), tuple(Member(i.filename, i.file_size, i.compress_size) for i in infos),
                       metadata, config, outline)


def _check_members(infos):
    """The zip's directory, member by member: names, flags and declared sizes. {name: ZipInfo}."""
    seen, total = {}, 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise BadArchive("unsafe_member_name", f"unsafe member name {name!r}", name=name[:200])
        if name in seen:
            raise BadArchive("duplicate_member", f"{name!r} appears twice", name=name[:200])
        seen[name] = info
        if info.flag_bits & 0x1:
            raise BadArchive("encrypted", f"{name!r} is encrypted", name=name)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise BadArchive("symlink", f"{name!r} is a symbolic link", name=name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BadArchive("unsupported_compression", f"{name!r} uses compression {info.compress_type}",
                             name=name)
        if name not in ALLOWED_MEMBERS:
            raise BadArchive("unexpected_member", f"unexpected member {name!r}", name=name[:200],
                             expected=", ".join(ALLOWED_MEMBERS))
        _check_member_size(name, info.file_size, info.compress_size)
        total += info.file_size
    for name in ALLOWED_MEMBERS:
        if name not in seen:
            raise BadArchive("missing_member", f"no {name} in the archive", name=name)
    if total > MAX_UNPACKED_BYTES:
        raise BadArchive("too_big_unpacked", f"{total:,} bytes unpacked", size=size_text(total),
                         limit=size_text(MAX_UNPACKED_BYTES))
    return seen


def _check_member_size(name, size, compressed_size):
    """A member's (declared or real) unpacked size: its expansion first, so a bomb is named one."""
    ratio = size / max(compressed_size, 1)
    if size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
        raise BadArchive("zip_bomb", f"{name} expands {ratio:.0f}x", name=name, ratio=f"{ratio:,.0f}",
                         limit=MAX_COMPRESSION_RATIO, size=size_text(size))
    limit = _MEMBER_LIMITS[name]
    if size > limit:
        raise BadArchive("member_too_big", f"{name} is {size:,} bytes unpacked", name=name,
                         size=size_text(size), limit=size_text(limit))


def read_member(archive, info):
    """A member's bytes, read with a hard cap: the sizes in the zip's headers are only claims."""
    limit = _MEMBER_LIMITS[info.filename]
    try:
        with archive.open(info) as f:
            content = f.read(limit + 1)
    except Exception:  # a bad CRC, a broken deflate stream, a header that disagrees with the directory
        raise BadArchive("corrupt", f"{info.filename} cannot be read", name=info.filename)
    if len(content) > limit:
        raise BadArchive("member_too_big", f"{info.filename} is over {limit:,} bytes", name=info.filename,
                         size=size_text(len(content)), limit=size_text(limit))
    _check_member_size(info.filename, len(content), info.compress_size)
    return content


def parse_json(raw, name):
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadArchive("bad_json", f"{name} is not JSON", name=name)
    if not isinstance(value, dict):
        raise BadArchive("bad_json", f"{name} is not a JSON object", name=name)
    return value
