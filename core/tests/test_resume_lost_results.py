"""Resume when the results log lost records after the checkpoint: a named error saying what was lost and the
ways on, never a silently recreated empty log (issue 19, item 6)."""

from __future__ import annotations

import json
import warnings

import pytest
from test_resume import Counting, _records

import trialog
from trialog.errors import ResultsLostError, TrialogWarning
from trialog.run.folder import Run


def _finished(tmp_path, base="a", n_epochs=4):
    exp = Counting(n_epochs=n_epochs, seed=3, base_dir=tmp_path / base, loggers={}, save_sources=False)
    exp.run()
    exp.close()
    return exp.run_dir


def _cut_to(run_dir, n_records):
    log = run_dir / "result" / "results.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:n_records]))
    return sum(len(line) for line in lines[:n_records]), sum(len(line) for line in lines[:4])


def test_a_log_cut_before_the_checkpoint_is_a_named_error_with_the_ways_on(tmp_path):
    run_dir = _finished(tmp_path)
    kept, checkpointed = _cut_to(run_dir, 1)  # the newest checkpoint (epoch 3) was taken after 4 records
    exp = Counting(n_epochs=6, base_dir=tmp_path / "a", loggers={}, resume=run_dir, save_sources=False)
    with pytest.raises(ResultsLostError) as info:
        exp.run()
    exp.close()
    text = str(info.value)
    assert f"has {kept} bytes (1 record)" in text
    assert f"taken when it had {checkpointed} bytes (4 records)" in text
    assert f"{checkpointed - kept} bytes (3 records) from byte {kept} on were lost" in text
    assert "none of this run's does" in text  # keep_last=2: epochs 2 and 3, both beyond the log
    assert f"trialog runs repair {run_dir}" in text
    assert (run_dir / "result" / "results.jsonl").stat().st_size == kept  # nothing was cut further
    assert json.loads((run_dir / "result" / "results.json").read_text())["score"]["count"] == 4


def test_fallback_resumes_from_the_newest_checkpoint_the_log_still_covers(tmp_path):
    run_dir = _finished(tmp_path)
    _cut_to(run_dir, 3)  # covers the checkpoint of epoch 2 (3 records), not that of epoch 3
    exp = Counting(n_epochs=6, base_dir=tmp_path / "a", loggers={}, resume=run_dir, save_sources=False)
    with pytest.raises(ResultsLostError, match=r"--resume .* --fallback") as info:
        exp.run()
    exp.close()
    assert "(1 record) from byte" in str(info.value)
    assert "resume from checkpoint step-00000002.npz (step 2, epoch 2), which the log still covers" in str(
        info.value
    )
    resumed = Counting(
        n_epochs=6,
        base_dir=tmp_path / "a",
        loggers={},
        resume=run_dir,
        resume_fallback=True,
        save_sources=False,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed.run()
    resumed.close()
    assert any(
        issubclass(w.category, TrialogWarning) and "lost the records after byte" in str(w.message)
        for w in caught
    )
    straight = _finished(tmp_path, "b", n_epochs=6)
    assert _records(run_dir) == _records(straight)
    assert Run(run_dir).results["score"]["value"].tolist() == Run(straight).results["score"]["value"].tolist()


def test_a_deleted_log_is_a_named_error_and_is_not_recreated(tmp_path):
    run_dir = _finished(tmp_path)
    log = run_dir / "result" / "results.jsonl"
    summary = (run_dir / "result" / "results.json").read_bytes()
    log.unlink()
    exp = Counting(n_epochs=6, base_dir=tmp_path / "a", loggers={}, resume=run_dir, save_sources=False)
    with pytest.raises(ResultsLostError, match=r"results\.jsonl is missing \(deleted\).*trialog runs repair"):
        exp.run()
    exp.close()
    assert not log.exists()
    assert (run_dir / "result" / "results.json").read_bytes() == summary  # the last word on what was logged
    assert json.loads((run_dir / "run.json").read_text())["status"] == "error"


def test_checkpoints_record_how_many_records_the_log_had(tmp_path):
    run_dir = _finished(tmp_path)
    state, _ = trialog.checkpoint.manager.CheckpointManager(run_dir / "checkpoint").load("last")
    assert state["trialog"]["results_records"] == 4
