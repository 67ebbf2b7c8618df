"""CheckpointManager: atomic saves, manifest, retention, last/best/step, async mode, formats (npz)."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from trialog.checkpoint.manager import CheckpointManager, NpzFormat, resolve_format
from trialog.errors import CheckpointError, PluginError

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


def state(i: int) -> dict:
    return {"model": {"w": np.full((3, 4), float(i)), "b": np.arange(4, dtype=np.int16) + i}, "step": i}


def files(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_npz_round_trip_of_nested_state(tmp_path):
    py_rng = random.Random(3).getstate()
    np_rng = np.random.RandomState(3).get_state()
    original = {
        "model": {"layer.0": {"w": np.random.rand(2, 3).astype(np.float32), "mask": np.array([True, False])}},
        "names": np.array(["a", "bc"]),
        "zero_d": np.array(2.5),
        "scalar": np.float32(1.25),
        "big_int": 2**70,
        "nan": float("nan"),
        "text": "ünï",
        "none": None,
        "flags": [True, 1, 2.0, None, [np.int64(3)]],
        "py_rng": py_rng,
        "np_rng": np_rng,
        "blob": b"\x00\xffbytes",
        "int_keys": {0: "a", 1: {"lr": 0.1}},
        "collides": {"__tuple__": [1, 2]},
        "empty": {},
    }
    fmt = NpzFormat()
    path = tmp_path / "x.bin"  # no .npz suffix: the manager writes temp names, np.savez must not add one
    fmt.save(original, path)
    assert files(tmp_path) == ["x.bin"]
    loaded = fmt.load(path)
    assert loaded.keys() == original.keys()
    np.testing.assert_array_equal(loaded["model"]["layer.0"]["w"], original["model"]["layer.0"]["w"])
    assert loaded["model"]["layer.0"]["w"].dtype == np.float32
    assert loaded["model"]["layer.0"]["mask"].dtype == bool
    assert loaded["names"].tolist() == ["a", "bc"]
    assert loaded["zero_d"].shape == () and loaded["zero_d"] == 2.5
    assert type(loaded["scalar"]) is np.float32 and loaded["scalar"] == 1.25
    assert loaded["big_int"] == 2**70 and np.isnan(loaded["nan"])
    assert loaded["text"] == "ünï" and loaded["none"] is None
    assert loaded["flags"][:4] == [True, 1, 2.0, None] and type(loaded["flags"][4][0]) is np.int64
    assert loaded["py_rng"] == py_rng
    random.Random().setstate(loaded["py_rng"])  # a tuple again, as setstate requires
    assert loaded["np_rng"][0] == "MT19937" and isinstance(loaded["np_rng"], tuple)
    np.testing.assert_array_equal(loaded["np_rng"][1], np_rng[1])
    np.random.RandomState().set_state(loaded["np_rng"])
    assert loaded["blob"] == b"\x00\xffbytes"
    assert loaded["int_keys"] == {0: "a", 1: {"lr": 0.1}}
    assert loaded["collides"] == {"__tuple__": [1, 2]} and loaded["empty"] == {}
    assert fmt.load(path, keys=["text", "none"]) == {"text": "ünï", "none": None}
    with pytest.raises(CheckpointError, match="nope"):
        fmt.load(path, keys=["nope"])


def test_npz_array_layouts_and_numpy_compatibility(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    arrays = {
        "fortran": np.asfortranarray(base),
        "strided": base[::2, 1::2],
        "empty": np.zeros((0, 3), dtype=np.int8),
        "zero_d": np.array(7, dtype=np.uint64),
        "records": np.array([(1, 2.5)], dtype=[("a", "i4"), ("b", "f8")]),
        "dates": np.array(["2026-01-01", "2026-11-21"], dtype="datetime64[D]"),
        "big_endian": np.arange(3, dtype=">i4"),
    }
    path = tmp_path / "c.npz"
    NpzFormat().save(arrays, path)
    loaded = NpzFormat().load(path)
    for key, arr in arrays.items():
        np.testing.assert_array_equal(loaded[key], arr)
        assert loaded[key].dtype == arr.dtype and loaded[key].shape == arr.shape
    assert loaded["fortran"].flags.f_contiguous
    # A plain npz archive: numpy reads it without trialog.
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["a0"], arrays["fortran"])
    # A compressed member (an npz written elsewhere) is read through np.load.
    tree = np.frombuffer(b'{"x": {"__ndarray__": "a0"}}', np.uint8)
    np.savez_compressed(tmp_path / "z.npz", __trialog_tree__=tree, a0=base)
    np.testing.assert_array_equal(NpzFormat().load(tmp_path / "z.npz")["x"], base)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_npz_detects_corruption(tmp_path, damage):
    path = tmp_path / "c.npz"
    NpzFormat().save({"w": np.arange(10_000, dtype=np.float64)}, path)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) - 300]
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"CRC check|truncated or corrupt"):
        NpzFormat().load(path)
    mgr = CheckpointManager(tmp_path / "m")
    entry = mgr.save({"w": np.arange(10_000, dtype=np.float64)}, step=1)
    entry.path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"step-00000001\.npz"):
        mgr.load()


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({"opt": {"fn": len}}, "opt.fn"),
        ({"arr": np.array([{}, 1], dtype=object)}, "arr"),
        ({"s": [1, {"x": {1, 2}}]}, "s.1.x"),
    ],
)
def test_npz_rejects_unsupported_values_naming_the_key(tmp_path, value, key):
    with pytest.raises(CheckpointError, match=key.replace(".", r"\.")):
        NpzFormat().save(value, tmp_path / "x.npz")
    with pytest.raises(CheckpointError, match=key.replace(".", r"\.")):
        NpzFormat().snapshot(value)


def test_npz_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(
        path, __trialog_tree__=np.frombuffer(b'{"x": {"__ndarray__": "a0"}}', np.uint8), a0=np.array([{}])
    )
    with pytest.raises(CheckpointError, match="never unpickles"):
        NpzFormat().load(path)
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(CheckpointError, match="not a trialog checkpoint"):
        NpzFormat().load(tmp_path / "plain.npz")


def test_snapshot_is_independent_of_the_caller(tmp_path):
    w = np.zeros(3)
    inner = [w, {"k": np.ones(2)}]
    snap = NpzFormat().snapshot({"m": inner, "t": (w,)})
    w += 5
    inner[1]["k"][:] = 7
    assert snap["m"][0].tolist() == [0, 0, 0] and snap["m"][1]["k"].tolist() == [1, 1]
    assert isinstance(snap["t"], tuple) and snap["t"][0].tolist() == [0, 0, 0]


def test_save_load_manifest_and_queries(tmp_path):
    mgr = CheckpointManager(tmp_path / "checkpoint", monitor="val_loss", mode="min")
    saved = [
        mgr.save(state(i), step=i * 10, epoch=i, metrics={"val_loss": [0.5, 0.2, 0.9][i]}) for i in range(3)
    ]
    assert files(tmp_path / "checkpoint") == [
        "index.json",
        "step-00000000.npz",
        "step-00000010.npz",
        "step-00000020.npz",
    ]
    manifest = json.loads((tmp_path / "checkpoint" / "index.json").read_text())
    assert manifest["entries"][1] == {
        "step": 10,
        "epoch": 1,
        "metric": 0.2,
        "file": "step-00000010.npz",
        "format": "npz",
        "time": saved[1].time,
        "checksum": saved[1].checksum,
        "size": (tmp_path / "checkpoint" / "step-00000010.npz").stat().st_size,
    }
    assert saved[1].checksum.startswith("xxh3_128:")
    assert mgr.entries == tuple(saved) and mgr.latest() == saved[2] and mgr.best() == saved[1]
    st, entry = mgr.load()
    assert entry.step == 20 and st["step"] == 2 and st["model"]["w"][0, 0] == 2.0
    assert mgr.load("best")[1].step == 10
    assert mgr.load(0)[0]["step"] == 0 and mgr.load(np.int64(10))[1].epoch == 1
    with pytest.raises(CheckpointError, match=r"step 5 .* 0, 10, 20"):
        mgr.load(5)
    with pytest.raises(CheckpointError, match="'last', 'best' or a step"):
        mgr.load("first")
    with pytest.raises(CheckpointError, match=r"not 1\.5"):
        mgr.load(1.5)
    # A new manager (a resumed process) sees the same entries from the manifest.
    again = CheckpointManager(tmp_path / "checkpoint", monitor="val_loss")
    assert again.entries == mgr.entries and again.best() == saved[1]
    assert again.load(which=0, keys=["step"])[0] == {"step": 0}


def test_a_reader_follows_a_writer_with_refresh(tmp_path):
    writer = CheckpointManager(tmp_path)
    writer.save({"a": 1}, step=1)
    reader = CheckpointManager(tmp_path)
    writer.save({"a": 2}, step=2)
    assert [e.step for e in reader.entries] == [1]
    reader.refresh()
    assert [e.step for e in reader.entries] == [1, 2] and reader.load()[0] == {"a": 2}


def test_unusable_folders_are_named(tmp_path):
    mgr = CheckpointManager(tmp_path / "run" / "checkpoint")
    (tmp_path / "run").write_text("")  # the run folder became a file after the manager was made
    with pytest.raises(CheckpointError, match=r"cannot create checkpoint folder .*run/checkpoint"):
        mgr.save({"a": 1}, step=0)
    with pytest.raises(
        CheckpointError, match=r"cannot read checkpoint manifest .*run/checkpoint/index\.json"
    ):
        CheckpointManager(tmp_path / "run" / "checkpoint")


def test_resume_picks_by_step_never_by_file_time(tmp_path):
    mgr = CheckpointManager(tmp_path)
    for step in (1, 2, 3):
        mgr.save(state(step), step=step)
    future = os.stat(tmp_path / "step-00000003.npz").st_mtime + 1000
    os.utime(tmp_path / "step-00000001.npz", (future, future))
    assert CheckpointManager(tmp_path).load("last")[0]["step"] == 3


def test_saving_a_step_again_replaces_it(tmp_path):
    mgr = CheckpointManager(tmp_path)
    mgr.save(state(1), step=1)
    second = mgr.save(state(7), step=1)
    assert [e.step for e in mgr.entries] == [1] and second.file == "step-00000001.1.npz"
    assert files(tmp_path) == ["index.json", "step-00000001.1.npz"]
    assert mgr.load(1)[0]["step"] == 7


def test_empty_and_misconfigured(tmp_path):
    mgr = CheckpointManager(tmp_path / "none")
    assert mgr.entries == () and mgr.latest() is None and mgr.best() is None
    assert not (tmp_path / "none").exists()  # reading creates nothing
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        mgr.load()
    mgr.save({"a": 1}, step=0)
    with pytest.raises(CheckpointError, match="monitor"):
        mgr.load("best")
    with pytest.raises(CheckpointError, match="keep_best needs monitor"):
        CheckpointManager(tmp_path, keep_best=1)
    with pytest.raises(CheckpointError, match="keep_last"):
        CheckpointManager(tmp_path, keep_last=0)
    with pytest.raises(CheckpointError, match="mode"):
        CheckpointManager(tmp_path, mode="lowest")
    monitored = CheckpointManager(tmp_path, monitor="acc")
    with pytest.raises(CheckpointError, match=r"lack the monitored metric 'acc'.*'loss'"):
        monitored.save({"a": 1}, step=1, metrics={"loss": 1.0})
    with pytest.raises(CheckpointError, match="must be a number"):
        monitored.save({"a": 1}, step=1, metrics={"acc": "high"})
    with pytest.raises(CheckpointError, match="mapping"):
        monitored.save([1, 2], step=1)
    assert monitored.save({"a": 1}, step=1).metric is None  # metrics=None: saved, not ranked
    assert monitored.best() is None


def test_retention_keep_last(tmp_path):
    mgr = CheckpointManager(tmp_path, keep_last=2)
    for step in range(5):
        mgr.save(state(step), step=step)
    assert [e.step for e in mgr.entries] == [3, 4]
    assert files(tmp_path) == ["index.json", "step-00000003.npz", "step-00000004.npz"]


def test_retention_keep_last_plus_best(tmp_path):
    losses = [0.9, 0.1, 0.5, 0.3, 0.8, 0.7]
    mgr = CheckpointManager(tmp_path, keep_last=2, keep_best=2, monitor="loss")
    for step, loss in enumerate(losses):
        mgr.save(state(step), step=step, metrics={"loss": loss})
    assert [e.step for e in mgr.entries] == [1, 3, 4, 5]
    assert mgr.best().step == 1
    listed = {e.file for e in mgr.entries}
    assert set(files(tmp_path)) == listed | {"index.json"}
    mx = CheckpointManager(tmp_path / "max", keep_best=1, monitor="acc", mode="max")
    for step, acc in enumerate([0.5, 0.9, float("nan"), 0.9, 0.6]):
        mx.save(state(step), step=step, metrics={"acc": acc})
    # Best by max (ties: the earlier step, NaN never best) plus the newest, which resume needs.
    assert [e.step for e in mx.entries] == [1, 4]


def test_failed_format_write_leaves_previous_checkpoint_and_manifest(tmp_path):
    class HalfWriter(NpzFormat):
        def save(self, state, path):
            with open(path, "wb") as f:
                f.write(b"PK\x03\x04 partial")
            raise OSError(28, "No space left on device")

    mgr = CheckpointManager(tmp_path)
    mgr.save(state(1), step=1)
    manifest = (tmp_path / "index.json").read_bytes()
    mgr.format = HalfWriter()
    with pytest.raises(CheckpointError, match=r"no space left on device writing .*step-00000002\.npz"):
        mgr.save(state(2), step=2)
    assert (tmp_path / "index.json").read_bytes() == manifest
    assert files(tmp_path) == ["index.json", "step-00000001.npz"]
    assert CheckpointManager(tmp_path).load()[0]["step"] == 1


def test_failed_manifest_write_leaves_previous_manifest(tmp_path, monkeypatch):
    mgr = CheckpointManager(tmp_path, keep_last=1)
    mgr.save(state(1), step=1)
    manifest = (tmp_path / "index.json").read_bytes()
    real_replace = os.replace

    def fail_for_manifest(src, dst):
        if os.path.basename(dst) == "index.json":
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_for_manifest)
    with pytest.raises(OSError, match="Input/output"):
        mgr.save(state(2), step=2)
    monkeypatch.undo()
    assert (tmp_path / "index.json").read_bytes() == manifest
    assert files(tmp_path) == ["index.json", "step-00000001.npz"]  # retention deleted nothing
    assert [e.step for e in mgr.entries] == [1] and mgr.load()[0]["step"] == 1


CRASH_CHILD = """
import os, signal, sys
import numpy as np
import trialog.checkpoint.manager as ck
from trialog.results.log import write_atomic

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

mgr = ck.CheckpointManager(sys.argv[1], keep_last=1)
mgr.save({"w": np.full(1000, 1.0)}, step=1)
if sys.argv[2] == "format":
    class Killed(ck.NpzFormat):
        def save(self, state, path):
            with open(path, "wb") as f:
                f.write(b"PK\\x03\\x04 half a checkpoint")
                f.flush()
            die()
    mgr.format = Killed()
else:  # the new file is complete under its final name, the manifest is not yet replaced
    ck.write_json = die  # the manifest is written by the one JSON writer
mgr.save({"w": np.full(1000, 2.0)}, step=2)
"""


@pytest.mark.parametrize("where", ["format", "manifest"])
def test_sigkill_mid_save_keeps_previous_checkpoint(tmp_path, where):
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH_CHILD), str(tmp_path), where],
        capture_output=True,
        timeout=HANG,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    leftovers = {"format": ".trialog-tmp-", "manifest": "step-00000002.npz"}[where]
    assert any(name.startswith(leftovers) for name in files(tmp_path))
    mgr = CheckpointManager(tmp_path, keep_last=1)
    assert [e.step for e in mgr.entries] == [1]
    loaded, entry = mgr.load()
    assert entry.step == 1 and loaded["w"][0] == 1.0
    assert any(name.startswith(leftovers) for name in files(tmp_path))  # opening and loading delete nothing
    mgr.save({"w": np.full(3, 3.0)}, step=2)  # the writer cleans up what the crash left
    assert files(tmp_path) == ["index.json", "step-00000002.npz"]
    assert mgr.load()[0]["w"].tolist() == [3.0, 3.0, 3.0]


class GatedFormat(NpzFormat):
    """npz that waits for a gate before writing: lets a test observe a save in flight without sleeping."""

    def __init__(self):
        self.gate = threading.Event()
        self.started = threading.Event()

    def save(self, state, path):
        self.started.set()
        assert self.gate.wait(HANG)
        super().save(state, path)


def test_async_save_snapshots_and_writes_in_background(tmp_path):
    fmt = GatedFormat()
    seen = []
    mgr = CheckpointManager(tmp_path, format=fmt, async_save=True, on_saved=seen.append)
    w = np.zeros(5)
    entry = mgr.save({"w": w}, step=1)
    assert fmt.started.wait(HANG)
    w += 1  # the caller goes on changing its state while the write is in flight
    assert mgr.entries == () and not (tmp_path / entry.file).exists()
    assert not any(n.endswith(".npz") and not n.startswith(".") for n in files(tmp_path))
    fmt.gate.set()
    mgr.wait()
    assert mgr.entries == (entry,) and seen == [entry]
    assert mgr.load()[0]["w"].tolist() == [0.0] * 5
    second = mgr.save({"w": w}, step=2)
    mgr.close()
    assert [e.step for e in mgr.entries] == [1, 2] and mgr.load(2)[0]["w"].tolist() == [1.0] * 5
    assert second in mgr.entries


def test_snapshot_reuses_buffers_of_an_old_snapshot():
    fmt = NpzFormat()
    first = fmt.snapshot({"m": {"w": np.zeros(4), "b": np.zeros(2)}, "l": [np.zeros(3)]})
    buffers = (first["m"]["w"], first["m"]["b"], first["l"][0])
    second = fmt.snapshot({"m": {"w": np.ones(4), "b": np.ones(3)}, "l": [np.full(3, 2.0)]}, into=first)
    assert second["m"]["w"] is buffers[0] and second["l"][0] is buffers[2]
    assert second["m"]["b"] is not buffers[1]  # another shape: a new array
    assert second["m"]["w"].tolist() == [1.0] * 4 and second["m"]["b"].tolist() == [1.0] * 3


def test_async_saves_in_a_row_each_keep_their_own_values(tmp_path):
    mgr = CheckpointManager(tmp_path, async_save=True)
    w = np.zeros(1000)
    for step in range(1, 5):
        w[:] = step
        mgr.save({"w": w, "meta": {"step": step}}, step=step)
    mgr.close()
    for step in range(1, 5):
        loaded = mgr.load(step)[0]
        assert loaded["meta"] == {"step": step} and set(loaded["w"].tolist()) == {float(step)}


def test_async_errors_are_raised_at_the_next_call(tmp_path):
    class Broken(NpzFormat):
        def save(self, state, path):
            raise RuntimeError("disk on fire")

    mgr = CheckpointManager(tmp_path, format=Broken(), async_save=True)
    mgr.save({"a": 1}, step=1)
    with pytest.raises(CheckpointError, match=r"step-00000001\.npz.*disk on fire"):
        mgr.wait()
    mgr.wait()  # raised once
    mgr.save({"a": 1}, step=2)
    with pytest.raises(CheckpointError, match=r"step-00000002\.npz"):
        mgr.save({"a": 1}, step=3)
    mgr.save({"a": 1}, step=4)
    with pytest.raises(CheckpointError, match=r"step-00000004\.npz"):
        mgr.close()
    assert files(tmp_path) == []
    # Unsupported values fail in the caller, during the snapshot, not later in the thread.
    with pytest.raises(CheckpointError, match="fn"):
        CheckpointManager(tmp_path, async_save=True).save({"fn": print}, step=1)


def test_on_saved_failure_is_named(tmp_path):
    def boom(entry):
        raise ValueError("upload failed")

    mgr = CheckpointManager(tmp_path, on_saved=boom)
    with pytest.raises(CheckpointError, match="is saved, but the on_saved callback"):
        mgr.save({"a": 1}, step=1)
    assert mgr.load()[0] == {"a": 1}


def test_format_plugin_lookup_and_errors(tmp_path):
    name, fmt = resolve_format("npz")
    assert name == "npz" and isinstance(fmt, NpzFormat)
    with pytest.raises(PluginError, match="no-such-format"):
        CheckpointManager(tmp_path, format="no-such-format")

    class NotAFormat:
        extension = ".x"

        def save(self, state, path): ...

    with pytest.raises(CheckpointError, match="lacks load, snapshot"):
        CheckpointManager(tmp_path, format=NotAFormat)

    class Unreadable(NpzFormat):
        name = "unreadable"

        def load(self, path):
            raise RuntimeError("version 9 file")

    mgr = CheckpointManager(tmp_path, format=Unreadable)
    mgr.save({"a": 1}, step=3)
    assert mgr.entries[0].format == "unreadable"
    with pytest.raises(
        CheckpointError, match=r"cannot load checkpoint .*step-00000003\.npz \(format 'unreadable'\)"
    ):
        mgr.load()
    # Another manager finds the entry's format by name among the installed plugins, and says it is not there.
    with pytest.raises(PluginError, match="unreadable"):
        CheckpointManager(tmp_path).load()


def test_corrupt_or_missing_files_give_named_errors(tmp_path):
    mgr = CheckpointManager(tmp_path)
    entry = mgr.save(state(1), step=1)
    (tmp_path / entry.file).write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match=r"step-00000001\.npz.*truncated or corrupt"):
        mgr.load()
    (tmp_path / entry.file).unlink()
    with pytest.raises(CheckpointError, match="is missing"):
        mgr.load()
    (tmp_path / "index.json").write_text('{"entries": [{"step": 1}')
    with pytest.raises(CheckpointError, match=r"index\.json is not valid JSON"):
        CheckpointManager(tmp_path)
    (tmp_path / "index.json").write_text('{"entries": [{"step": 1, "file": "../x.npz", "format": "npz"}]}')
    with pytest.raises(CheckpointError, match=r"malformed.*plain file name"):
        CheckpointManager(tmp_path)


def test_large_snapshot_copies_are_whole_and_private():
    from trialog.checkpoint.manager import NpzFormat

    big = np.arange(5_000_003, dtype=np.float64)  # 40 MB, an odd length: split over threads
    fmt = NpzFormat()
    snap = fmt.snapshot({"w": big})
    assert snap["w"] is not big and np.array_equal(snap["w"], big)
    big[::2] = -1
    again = fmt.snapshot({"w": big}, into=snap)
    assert again["w"] is snap["w"] and np.array_equal(again["w"], big)


def test_npz_saves_start_writeback_as_they_go(tmp_path, monkeypatch):
    from trialog.checkpoint import manager as checkpoint
    from trialog.checkpoint import writeback

    kicks = []
    monkeypatch.setattr(writeback, "_sync_file_range", lambda fd, offset, n, flags: kicks.append((offset, n)))
    monkeypatch.setattr(checkpoint.WritebackFile, "CHUNK", 1 << 16)
    state = {"a": np.arange(100_000.0), "b": {"c": np.ones(50_000, dtype=np.float32)}}
    path = tmp_path / "big.npz"
    checkpoint.NpzFormat().save(state, path)
    back = checkpoint.NpzFormat().load(path)
    assert np.array_equal(back["a"], state["a"]) and np.array_equal(back["b"]["c"], state["b"]["c"])
    assert len(kicks) >= 2 and all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(kicks))
