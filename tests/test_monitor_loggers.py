"""A Monitor's logger specs (sca img hist txt) reach TensorBoard through the Experiment's loggers, at their steps."""

from __future__ import annotations

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from trialog import Experiment, Monitor

HANG = 600.0


def test_monitor_logger_specs_land_in_tensorboard_at_their_steps(tmp_path):
    exp = Experiment(name="tb", base_dir=tmp_path, loggers={"tb": "tensorboard"}, capture_output=False)
    m = Monitor(exp, sca=("^loss$@2s", "acc@1e"), img="^x$@3s", hist="^w$@1e", txt="^note$@2e")
    for e in m(range(2)):
        for i in m(range(3)):
            m.log(loss=float(10 * e + i), x=np.full((1, 4, 4), i / 3.0), w=np.arange(5.0) * e)
            # the background queue keeps only the newest pending image of a name: let each one be written
            assert exp.clog.wait_idle(HANG)
        m.log(acc=0.5 + e, note=f"epoch {e} done")
    summary = exp.close()
    assert all(entry["failures"] == 0 for entry in summary.values()), summary

    events = EventAccumulator(
        str(exp.run_dir / "save" / "tensorboard"), size_guidance={"images": 0, "histograms": 0}
    )
    events.Reload()
    tags = events.Tags()
    assert [(s.step, s.value) for s in events.Scalars("loss")] == [(2, 1.0), (4, 10.0), (6, 12.0)]
    assert [(s.step, s.value) for s in events.Scalars("acc")] == [(1, 0.5), (2, 1.5)]
    assert [i.step for i in events.Images("x")] == [3, 6]
    assert [h.step for h in events.Histograms("w")] == [1, 2]
    assert any("note" in t for t in tags["tensors"])
