"""The ``torch`` checkpoint format: round trips, safe loading, named errors, partial model loading."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
from torch import nn
from trialog_torch.checkpoint import TorchFormat
from trialog_torch.utils import decode_numpy, encode_numpy, snapshot_to_cpu, update_model

from trialog.errors import CheckpointError, TrialogWarning


class Net(nn.Module):
    def __init__(self, n_out: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, n_out)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean(dim=(2, 3)))


def _trained(seed: int = 0):
    torch.manual_seed(seed)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(8, 1, 6, 6)).pow(2).mean().backward()
        opt.step()
        sched.step()
    return model, opt, sched


class Opaque:
    """Not allowed by weights_only loading."""


Point = collections.namedtuple("Point", "x y")


def test_round_trip_model_optimizer_scheduler_rng_and_numpy(tmp_path):
    model, opt, sched = _trained()
    fmt = TorchFormat()
    state = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": (3, (1, 2), None)},
        "simple": {"epoch": 4, "best": np.float32(0.25), "names": ["a", "b"], "flag": True, "t": (1, 2.5)},
        "array": np.arange(12, dtype=np.int16).reshape(3, 4)[:, ::2],
    }
    path = tmp_path / f"ck{fmt.extension}"
    fmt.save(fmt.snapshot(state), path)
    back = fmt.load(path)

    restored, opt2, sched2 = _trained(seed=1)
    restored.load_state_dict(back["model"])
    opt2.load_state_dict(back["optimizer"])
    sched2.load_state_dict(back["scheduler"])
    for a, b in zip(model.state_dict().values(), restored.state_dict().values()):
        assert torch.equal(a, b)
    for key, value in opt.state_dict()["state"][0].items():
        assert torch.equal(value, opt2.state_dict()["state"][0][key])
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert torch.equal(back["rng"]["torch"], state["rng"]["torch"])
    assert back["rng"]["numpy"][0] == "MT19937"
    np.testing.assert_array_equal(back["rng"]["numpy"][1], state["rng"]["numpy"][1])
    assert back["rng"]["python"] == (3, (1, 2), None)
    assert back["simple"] == {
        "epoch": 4,
        "best": np.float32(0.25),
        "names": ["a", "b"],
        "flag": True,
        "t": (1, 2.5),
    }
    assert isinstance(back["simple"]["best"], np.float32)
    np.testing.assert_array_equal(back["array"], state["array"])
    assert back["array"].dtype == np.int16


def test_numpy_encoding_keeps_dtype_shape_and_scalar_kind():
    values = [
        np.float64(2.5),
        np.array(3.0),
        np.zeros((0, 2)),
        np.array(["ab", "c"]),
        np.arange(5, dtype=">u4"),
    ]
    values.append(np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]))
    for value in values:
        back = decode_numpy(encode_numpy(value))
        assert type(back) is type(value)
        assert back.dtype == value.dtype and np.shape(back) == np.shape(value)
        np.testing.assert_array_equal(back, value)


def test_numpy_object_arrays_are_refused_with_the_key_named(tmp_path):
    with pytest.raises(CheckpointError, match=r"state\['simple'\]\['bad'\].*objects"):
        TorchFormat().save({"simple": {"bad": np.array([{}, 1], dtype=object)}}, tmp_path / "x.pt")


def test_snapshot_is_independent_of_later_in_place_updates():
    model, opt, _ = _trained()
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "list": [np.ones(2)]}
    snap = TorchFormat().snapshot(state)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    state["list"][0][:] = 5
    for key, value in before.items():
        assert torch.equal(snap["model"][key], value)
    np.testing.assert_array_equal(decode_numpy(snap)["list"][0], np.ones(2))
    assert isinstance(snap["model"], collections.OrderedDict)


def test_weights_only_default_rejects_pickled_objects_with_a_named_error(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"model": {}, "payload": Opaque()}, path)
    with pytest.raises(CheckpointError) as info:
        TorchFormat().load(path)
    message = str(info.value)
    assert str(path) in message and "Opaque" in message and "weights_only=False" in message
    assert isinstance(TorchFormat().load(path, weights_only=False)["payload"], Opaque)
    assert isinstance(TorchFormat(weights_only=False).load(path)["payload"], Opaque)


def test_missing_truncated_and_non_dict_files_are_named_errors(tmp_path):
    fmt = TorchFormat()
    with pytest.raises(CheckpointError, match=r"does not exist"):
        fmt.load(tmp_path / "nope.pt")
    good = tmp_path / "good.pt"
    fmt.save({"w": torch.ones(1000)}, good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CheckpointError, match=r"truncated\.pt is not a readable torch checkpoint"):
        fmt.load(truncated)
    listed = tmp_path / "list.pt"
    torch.save([1, 2], listed)
    with pytest.raises(CheckpointError, match=r"list\.pt holds a list"):
        fmt.load(listed)


def test_map_location_moves_tensors(tmp_path):
    path = tmp_path / "m.pt"
    TorchFormat().save({"w": torch.ones(2)}, path)
    assert TorchFormat().load(path, map_location="meta")["w"].device.type == "meta"
    assert TorchFormat(map_location="meta").load(path)["w"].device.type == "meta"
    assert TorchFormat().load(path)["w"].device.type == "cpu"


def test_load_with_mmap(tmp_path):
    path = tmp_path / "m.pt"
    TorchFormat().save({"w": torch.arange(10.0)}, path)
    assert torch.equal(TorchFormat().load(path, mmap=True)["w"], torch.arange(10.0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_snapshot_is_pinned_host_memory_and_loads_back_to_the_device(tmp_path):
    state = {"w": torch.arange(6.0, device="cuda"), "n": 3}
    snap = TorchFormat().snapshot(state)
    assert snap["w"].device.type == "cpu" and snap["w"].is_pinned()
    path = tmp_path / "c.pt"
    TorchFormat().save(snap, path)
    back = TorchFormat().load(path, map_location="cuda:0")
    assert back["w"].device.type == "cuda" and torch.equal(back["w"], state["w"])


def test_update_model_loads_the_matching_part_and_names_every_problem():
    source = Net(n_out=5)
    state = dict(source.state_dict())
    state["extra.weight"] = torch.zeros(1)
    del state["bn.running_var"]
    target = Net(n_out=3)
    with pytest.warns(TrialogWarning) as caught:
        report = update_model(target, state)
    messages = "\n".join(str(w.message) for w in caught)
    assert "bn.running_var" in messages and "extra.weight" in messages
    assert "fc.weight (checkpoint [5, 4] vs model [3, 4])" in messages and "fc.bias" in messages
    assert report.missing == ["bn.running_var"] and report.unexpected == ["extra.weight"]
    assert {k for k, _, _ in report.mismatched} == {"fc.weight", "fc.bias"}
    assert torch.equal(target.conv.weight, source.conv.weight)
    assert not report.complete


def test_update_model_excludes_layers_by_prefix_and_pattern_without_warning(recwarn):
    source, target = Net(n_out=5), Net(n_out=3)
    before = target.fc.weight.clone()
    report = update_model(target, source.state_dict(), exclude_layers=["fc", "bn.running_*"])
    assert not [w for w in recwarn if issubclass(w.category, TrialogWarning)]
    assert set(report.excluded) == {"fc.weight", "fc.bias", "bn.running_mean", "bn.running_var"}
    assert torch.equal(target.fc.weight, before)
    assert torch.equal(target.bn.weight, source.bn.weight)


def test_update_model_strict_raises_instead_of_warning():
    with pytest.raises(CheckpointError, match=r"shape mismatches.*fc\.weight"):
        update_model(Net(n_out=3), Net(n_out=5).state_dict(), strict=True)
    report = update_model(Net(), Net().state_dict(), strict=True)
    assert report.complete


def test_snapshot_keeps_namedtuples_and_plain_values():
    point = collections.namedtuple("Point", "x y")
    snap = snapshot_to_cpu({"p": point(torch.ones(1), 2), "s": {1, 2}, "n": None})
    assert isinstance(snap["p"], point) and snap["p"].y == 2 and snap["s"] == {1, 2} and snap["n"] is None


def test_snapshot_buffers_are_recycled_only_after_their_save(tmp_path):
    fmt = TorchFormat()
    weights = torch.arange(1000.0)
    first = fmt.snapshot({"w": weights})
    weights += 1
    second = fmt.snapshot({"w": weights})  # the first snapshot is not saved yet: a buffer of its own
    assert first["w"].data_ptr() != second["w"].data_ptr()
    assert torch.equal(first["w"], torch.arange(1000.0))
    fmt.save(first, tmp_path / "a.pt")
    weights += 1
    third = fmt.snapshot({"w": weights})
    assert third["w"].data_ptr() == first["w"].data_ptr()  # written, so its buffer is reused
    assert torch.equal(third["w"], torch.arange(1000.0) + 2)
    assert torch.equal(second["w"], torch.arange(1000.0) + 1)
    assert torch.equal(fmt.load(tmp_path / "a.pt")["w"], torch.arange(1000.0))


def test_saving_live_state_never_hands_its_tensors_to_the_pool(tmp_path):
    fmt = TorchFormat()
    live = {"w": torch.ones(10)}
    fmt.save(live, tmp_path / "live.pt")
    snap = fmt.snapshot({"w": torch.zeros(10)})
    assert snap["w"].data_ptr() != live["w"].data_ptr() and torch.equal(live["w"], torch.ones(10))


def test_async_manager_with_the_torch_format_writes_the_state_of_the_save_call(tmp_path):
    from trialog.checkpoint.manager import CheckpointManager

    model, opt, _ = _trained()
    manager = CheckpointManager(tmp_path / "ck", format="torch", keep_last=2, async_save=True)
    expected = []
    for step in range(3):
        expected.append({k: v.clone() for k, v in model.state_dict().items()})
        manager.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, step=step)
        with torch.no_grad():  # training goes on while the checkpoint is written
            for p in model.parameters():
                p.mul_(0.5)
    manager.close()
    assert [e.step for e in manager.entries] == [1, 2]
    for step in (1, 2):
        state, entry = manager.load(step)
        assert entry.format == "torch" and entry.path.suffix == ".pt"
        for key, value in expected[step].items():
            assert torch.equal(state["model"][key], value)


def test_legacy_torch_files_load_without_mmap(tmp_path):
    path = tmp_path / "legacy.pth.tar"
    torch.save({"w": torch.arange(4.0)}, path, _use_new_zipfile_serialization=False)
    assert torch.equal(TorchFormat().load(path)["w"], torch.arange(4.0))
    with pytest.raises(CheckpointError, match=r"legacy\.pth\.tar is not a readable torch checkpoint"):
        TorchFormat().load(path, mmap=True)  # asked for explicitly: no silent fallback


def test_large_saves_go_through_the_writeback_file(tmp_path, monkeypatch):
    from trialog.checkpoint import manager as checkpoint
    from trialog.checkpoint import writeback

    kicks = []
    monkeypatch.setattr(writeback, "_sync_file_range", lambda fd, offset, n, flags: kicks.append((offset, n)))
    monkeypatch.setattr(checkpoint.WritebackFile, "CHUNK", 1 << 16)
    state = {"a": torch.arange(100_000.0), "b": torch.ones(50_000)}
    TorchFormat().save(state, tmp_path / "big.pt")
    back = TorchFormat().load(tmp_path / "big.pt")
    assert torch.equal(back["a"], state["a"]) and torch.equal(back["b"], state["b"])
    assert len(kicks) >= 2  # torch writes each tensor in one piece: a kick after each
    assert all(
        kicks[i][0] + kicks[i][1] == kicks[i + 1][0] for i in range(len(kicks) - 1)
    )  # contiguous ranges


def test_a_snapshot_dropped_without_saving_leaves_nothing_lent(tmp_path):
    import gc

    fmt = TorchFormat()
    snap = fmt.snapshot({"w": torch.ones(100), "n": np.zeros(3)})
    assert len(fmt._pool._lent) == 2
    del snap
    gc.collect()
    assert fmt._pool._lent == {}
    fmt.save({"w": torch.ones(100)}, tmp_path / "x.pt")  # live tensors are never adopted
    assert fmt._pool._free == {}


def test_unstorable_values_are_refused_in_the_caller_with_the_key_named():
    point = collections.namedtuple("Point", "x y")
    with pytest.raises(CheckpointError, match=r"state\['user'\]\['p'\] is a .*Point"):
        TorchFormat().snapshot({"user": {"p": point(1, 2)}})
    with pytest.raises(CheckpointError, match=r"state\['opaque'\] is a .*Opaque.*state_dict"):
        TorchFormat().snapshot({"opaque": Opaque()})


def test_weights_only_false_formats_save_and_load_pickled_objects(tmp_path):
    fmt = TorchFormat(weights_only=False)
    state = {"opaque": Opaque(), "objects": np.array([{}, 1], dtype=object), "numbers": np.arange(3)}
    fmt.save(fmt.snapshot(state), tmp_path / "unsafe.pt")
    back = fmt.load(tmp_path / "unsafe.pt")
    assert isinstance(back["opaque"], Opaque) and back["objects"][1] == 1
    np.testing.assert_array_equal(back["numbers"], np.arange(3))
    fmt.save({"p": Point(1, 2)}, tmp_path / "nt.pt")
    assert fmt.load(tmp_path / "nt.pt")["p"] == Point(1, 2)


# ---------------------------------------------------------------- issue 13: verification and a full disk


def _model_state():
    torch.manual_seed(0)
    model = nn.Linear(64, 64)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 64)).sum().backward()
    opt.step()
    return {"model": model.state_dict(), "optimizer": opt.state_dict()}


@pytest.mark.parametrize("seed", range(6))
def test_random_bytes_in_a_torch_checkpoint_never_load(tmp_path, seed):
    """Defect 1: 4 KB of random bytes in the middle of step-00000001.pt loaded silently (NaN in exp_avg)."""
    import random

    from trialog.checkpoint.manager import CheckpointManager

    mgr = CheckpointManager(tmp_path, format="torch")
    entry = mgr.save(_model_state(), step=1)
    data = bytearray(entry.path.read_bytes())
    rng = random.Random(seed)
    offset = rng.randrange(0, len(data) - 4096)
    data[offset : offset + 4096] = rng.randbytes(4096)
    entry.path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"step-00000001\.pt is corrupt"):
        CheckpointManager(tmp_path, format="torch").load()


def test_torch_checkpoint_checksum_is_computed_while_writing(tmp_path, monkeypatch):
    from trialog.checkpoint import checksum
    from trialog.checkpoint.manager import CheckpointManager

    calls = []
    original = checksum.file_checksum
    monkeypatch.setattr(checksum, "file_checksum", lambda *a, **k: calls.append(a) or original(*a, **k))
    entry = CheckpointManager(tmp_path, format="torch").save(_model_state(), step=0)
    assert calls == []  # no second pass over the file
    assert entry.checksum == original(entry.path)[0] and entry.size == entry.path.stat().st_size


def test_a_full_disk_under_torch_save_says_so(tmp_path, monkeypatch):
    """Defect 7: torch's "[enforce fail at inline_container.cc] unexpected pos" instead of "no space left"."""
    import errno

    from trialog.checkpoint.manager import CheckpointManager
    from trialog.checkpoint.writeback import WritebackFile
    from trialog.errors import DiskFullError

    original = WritebackFile._write_all

    def full_after_a_while(self, view):
        if self.written > 2000:
            self.error = OSError(errno.ENOSPC, "No space left on device")
            raise self.error
        original(self, view)

    monkeypatch.setattr(WritebackFile, "_write_all", full_after_a_while)
    mgr = CheckpointManager(tmp_path, format="torch")
    with pytest.raises(
        DiskFullError, match=r"^no space left on device writing .*step-00000000\.pt"
    ) as caught:
        mgr.save(_model_state(), step=0)
    assert "inline_container" not in str(caught.value) and isinstance(caught.value, CheckpointError)
    assert list(tmp_path.iterdir()) == []


def test_trialog_run_fallback_and_skip_unreadable_flags(tmp_path):
    """`trialog run --resume last --fallback --skip-unreadable`: "last" resolved skipping unreadable runs."""
    import argparse

    from trialog_torch.cli import _resume_request

    from trialog.api import ResumeFrom
    from trialog.errors import ConfigError

    good, bad = tmp_path / "a", tmp_path / "b"
    for folder, text in ((good, '{"start": "2026-11-21T10:00:00+00:00"}'), (bad, '{"sta')):
        folder.mkdir()
        (folder / "run.json").write_text(text)

    def args(**kw):
        base = {"resume": "last", "base_dir": tmp_path, "config": "c.json", "fallback": False}
        return argparse.Namespace(**{**base, "skip_unreadable": False, **kw})

    assert _resume_request(args()) == "last"  # plain --resume: passed on as it is
    request = _resume_request(args(fallback=True, skip_unreadable=True))
    assert isinstance(request, ResumeFrom) and request.path == good and request.fallback
    with pytest.raises(Exception, match=r"b/run\.json"):
        _resume_request(args(fallback=True))
    with pytest.raises(ConfigError, match="go with --resume"):
        _resume_request(args(resume=None, fallback=True))
