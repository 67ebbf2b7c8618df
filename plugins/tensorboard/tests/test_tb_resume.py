"""The TensorBoard logger's side of the resume contract (issue 18), read with TensorBoard's EventAccumulator."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from trialog_tensorboard import MARKS_FILE, TensorBoardLogger

from trialog.loggers.dispatch import CombinedLogger


def _scalars(folder: Path, tag: str, acc: EventAccumulator | None = None) -> list[tuple[int, float]]:
    acc = acc or EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_default_steps_are_call_numbers_with_every(tmp_path):
    clog = CombinedLogger({"tb": {"type": "tensorboard", "every": 10}}, run_dir=tmp_path)
    for i in range(25):
        clog.show_value(float(i), "loss")
    clog.close()
    assert _scalars(tmp_path / "save" / "tensorboard", "loss") == [(0, 0.0), (10, 10.0), (20, 20.0)]


def test_a_resume_cuts_back_to_the_checkpoint_and_purges_what_a_live_reader_already_read(tmp_path):
    logdir = tmp_path / "tb"
    first = TensorBoardLogger(logdir=logdir)
    for step in range(3):
        first.show_value(float(step), "loss", None, None)
        first.show_value(float(step), "acc", None, "train")
    first.on_checkpoint(0)  # the checkpoint: steps 0-2 are on disk now
    for step in range(3, 6):
        first.show_value(float(step), "loss", None, None)
        first.show_value(float(step), "acc", None, "train")
    first.flush()  # the events past the checkpoint reached the disk too; then the process is "killed"
    live = EventAccumulator(str(logdir), size_guidance={"scalars": 0})  # a TensorBoard watching meanwhile
    assert [s for s, _ in _scalars(logdir, "loss", live)] == [0, 1, 2, 3, 4, 5]
    assert (logdir / MARKS_FILE).is_file()

    second = TensorBoardLogger(logdir=logdir)
    second.on_resume(0, None)
    for step in range(3, 5):
        second.show_value(10.0 + step, "loss", None, None)
        second.show_value(10.0 + step, "acc", None, "train")
    second.close()
    expected = [(0, 0.0), (1, 1.0), (2, 2.0), (3, 13.0), (4, 14.0)]
    assert _scalars(logdir, "loss") == expected  # a fresh reader: the files were cut back
    assert _scalars(logdir / "train", "acc") == expected
    assert _scalars(logdir, "loss", live) == expected  # the live reader purged steps 3-5 (purge_step)


def test_a_resume_before_any_checkpoint_starts_the_events_over(tmp_path):
    logdir = tmp_path / "tb"
    first = TensorBoardLogger(logdir=logdir)
    first.show_value(1.0, "loss", None, None)
    first.flush()
    second = TensorBoardLogger(logdir=logdir)
    second.on_resume(None, None)
    second.show_value(2.0, "loss", None, None)
    second.close()
    assert _scalars(logdir, "loss") == [(0, 2.0)]
