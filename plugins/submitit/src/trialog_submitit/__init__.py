"""The ``submitit`` sweeper: ``trialog sweep CONFIG --sweeper submitit [--option partition=gpu ...]``.

Every pending trial is one submitit job (on SLURM, the trials of one submission are one job array):
the job runs :class:`TrialJob`, which resumes the trial's run folder when it has one and otherwise
starts it, so every attempt of a trial — a first start, a job SLURM requeued after a preemption or a
timeout (the job is ``checkpointable``: submitit's timeout signal requeues it), a job the driver
resubmitted after it died (SIGKILL, out of memory, ``scancel``) — continues exactly where the trial's
last checkpoint left it. The driver records each trial's job (``"job": {"id", "cluster", "folder"}``) in
``sweep.json``: ``trialog sweep --resume`` follows jobs that are still queued or running instead of
submitting them twice, and ``trialog sweep show`` shows their current state. A job that ended without a
result is a failed attempt, submitted again up to ``max_failures`` times.

The job's state comes from its result file (submitit's ``<job>_0_result.pkl``) and, while there is none,
from the scheduler (``scontrol show job``, which needs no accounting database; a local job: its process).

Options (``--option KEY=VALUE``, recorded in sweep.json): ``cluster`` (``slurm`` or ``local``; default:
submitit's choice, SLURM where ``sbatch`` exists), ``partition``, ``account``, ``poll`` (seconds between
state checks, default 2). Sweep key ``resources``: ``cpu`` → ``cpus_per_task``, ``gpu`` →
``gpus_per_node``, ``mem_gb``, ``time_min`` → ``timeout_min``; ``--parallel N`` → the job array's
``slurm_array_parallelism``.

submitit is imported when a sweep runs, never when the entry point is listed.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialog_sweep import driver_options, open_sweep, run_trial, seconds_option

from trialog.errors import ConfigError, TrialogError

__all__ = ["JOBS_DIR", "SubmititSweeper", "TrialJob", "job_state"]

JOBS_DIR = "submitit"
_OPTIONS = ("cluster", "partition", "account", "poll")
_CLUSTERS = ("slurm", "local")
_ALIVE = {
    "PENDING",
    "RUNNING",
    "REQUEUED",
    "REQUEUE_FED",
    "REQUEUE_HOLD",
    "CONFIGURING",
    "COMPLETING",
    "SUSPENDED",
    "RESIZING",
    "SIGNALING",
    "STAGE_OUT",
}


class TrialJob:
    """The function a trial's job runs: continue the trial's run folder, or start it.

    Checkpointable (submitit calls :meth:`checkpoint` on its timeout/preemption signal and requeues the
    job): the requeued job calls this again, which resumes the run folder from its last checkpoint.
    """

    def __init__(self, sweep_dir: str, trial_id: str) -> None:
        self.sweep_dir = sweep_dir
        self.trial_id = trial_id

    def __call__(self) -> str:
        sweep = open_sweep(None, "submitit", resume=self.sweep_dir)  # read-only: the driver owns sweep.json
        previous = sweep.run_folder(self.trial_id)
        if previous is not None and _run_status(previous) == "finished":
            return str(previous)  # a requeue after the run ended: nothing to do again
        return str(run_trial(sweep.trial_file(self.trial_id), resume=previous))

    def checkpoint(self) -> Any:
        """submitit's requeue hook: the same call again (it resumes the run folder's last checkpoint)."""
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(TrialJob(self.sweep_dir, self.trial_id))


def _run_status(run_dir: Path) -> str | None:
    import json

    try:
        return json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def _result(job: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The job's outcome from its result file: ``("success", run_dir)``, ``("error", traceback)`` or None."""
    from submitit.core.utils import JobPaths, pickle_load

    path = JobPaths(job["folder"], str(job["id"]), 0).result_pickle
    if not path.is_file():
        return None
    try:
        kind, value = pickle_load(path)
    except Exception as exc:  # a torn or foreign file: a failed attempt, named
        return ("error", f"unreadable result file {path}: {type(exc).__name__}: {exc}")
    return (str(kind), value)


def _slurm_state(job_id: str) -> str | None:
    """``JobState`` of a SLURM job from ``scontrol show job`` (None: SLURM no longer knows it)."""
    try:
        out = subprocess.run(
            ["scontrol", "show", "job", "-o", job_id],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for field in out.stdout.split():
        if field.startswith("JobState="):
            return field.partition("=")[2]
    return None


def _local_alive(pid: str) -> bool:
    """Whether a local submitit job (its controller process) still runs."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        cmdline = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
    except (OSError, ValueError):
        return False
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X") and b"submitit" in cmdline


def job_state(job: Mapping[str, Any]) -> str:
    """``finished``, ``failed: <why>`` or ``running`` (queued, running or requeued) for a recorded job."""
    for _ in range(2):  # the job may write its result between the two checks
        outcome = _result(job)
        if outcome is not None:
            kind, value = outcome
            return "finished" if kind == "success" else f"failed: {str(value).strip().splitlines()[-1:]}"
        if job.get("cluster") == "local":
            alive = _local_alive(str(job["id"]))
            state = "RUNNING" if alive else None
        else:
            state = _slurm_state(str(job["id"]))
            alive = state in _ALIVE
        if alive:
            return "running"
    return f"failed: the job ended without a result ({state or 'gone'})"


class SubmititSweeper:
    """Run a sweep's trials as submitit jobs (SLURM, or submitit's local executor)."""

    name = "submitit"

    def __init__(
        self,
        parallel: int | None = None,
        address: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        options = driver_options(self.name, parallel, address, options, _OPTIONS)
        cluster = options.get("cluster")
        if cluster is not None and cluster not in _CLUSTERS:
            raise ConfigError(f"--option cluster={cluster}: give one of {', '.join(_CLUSTERS)}")
        self.poll = seconds_option(options, "poll", 2.0)
        self.parallel = parallel
        self.options = options
        self._cluster = "local"

    # ------------------------------------------------------------------------------------ jobs

    def _executor(self, sweep: Any) -> Any:
        import submitit

        cluster = self.options.get("cluster") or submitit.AutoExecutor.which()
        if cluster not in _CLUSTERS:
            raise ConfigError(
                f"trialog-submitit: no SLURM here (submitit found {cluster!r}); --option cluster=local"
            )
        executor = submitit.AutoExecutor(folder=Path(sweep.folder) / JOBS_DIR, cluster=cluster)
        res = sweep.spec.resources
        params: dict[str, Any] = {
            "name": sweep.spec.name,
            "cpus_per_task": max(1, math.ceil(res.get("cpu", 1))),
            "timeout_min": int(res.get("time_min") or 60 * 24),
            "stderr_to_stdout": True,
        }
        if res.get("gpu"):
            params["gpus_per_node"] = math.ceil(res["gpu"])
        if res.get("mem_gb"):
            params["mem_gb"] = float(res["mem_gb"])
        if cluster == "slurm":
            for key in ("partition", "account"):
                if self.options.get(key):
                    params[f"slurm_{key}"] = self.options[key]
            if self.parallel:
                params["slurm_array_parallelism"] = self.parallel
        executor.update_parameters(**params)
        self._cluster = cluster
        return executor

    def _submit(self, executor: Any, sweep: Any, trial_ids: list[str]) -> None:
        for trial_id in trial_ids:
            sweep.write_trial_file(sweep.trial(trial_id))  # the sweep's recorded thread count with it
        calls = [TrialJob(str(Path(sweep.folder).resolve()), t) for t in trial_ids]
        if len(calls) > 1:
            with executor.batch():  # one SLURM job array
                jobs = [executor.submit(call) for call in calls]
        else:
            jobs = [executor.submit(call) for call in calls]
        for trial_id, job in zip(trial_ids, jobs):
            record = {"id": str(job.job_id), "cluster": self._cluster, "folder": str(executor.folder)}
            entry = sweep.trial(trial_id)
            sweep.update(trial_id, status="running", attempts=entry.get("attempts", 0) + 1, job=record)

    # ------------------------------------------------------------------------------------ the sweep

    def run(self, sweep: Any) -> None:
        spec = sweep.spec
        if spec.early_stopping is not None:
            raise ConfigError("sweep key 'early_stopping': use --sweeper ray for ASHA early stopping")
        if spec.search != "random":
            raise ConfigError(f"sweep key 'search': {spec.search!r} needs --sweeper ray")
        executor = self._executor(sweep)
        followed = [t["id"] for t in sweep.pending() if t.get("job")]
        new = [t["id"] for t in sweep.pending() if not t.get("job")]
        if new:
            self._submit(executor, sweep, new)
        active = [*followed, *new]
        failures: dict[str, int] = {}
        while active:
            still: list[str] = []
            for trial_id in active:
                state = job_state(sweep.trial(trial_id)["job"])
                if state == "running":
                    still.append(trial_id)
                    continue
                found = sweep.collect(trial_id)
                if found.get("run") is None:
                    found.pop("run")
                if state == "finished":
                    sweep.update(trial_id, status="finished", error=None, **found)
                    continue
                failures[trial_id] = failures.get(trial_id, 0) + 1
                job_id = sweep.trial(trial_id)["job"]["id"]
                why = f"job {job_id} {state}"
                if failures[trial_id] > spec.max_failures:
                    sweep.update(trial_id, status="error", error=why, **found)
                    continue
                sweep.update(trial_id, error=f"attempt {failures[trial_id]}: {why}; resubmitted", **found)
                self._submit(executor, sweep, [trial_id])
                still.append(trial_id)
            active = still
            if active:
                time.sleep(self.poll)

    @classmethod
    def refresh(cls, sweep: Any) -> None:
        """``trialog sweep show``: each recorded job's current state into the trials (in memory only)."""
        for trial in sweep.trials:
            job = trial.get("job")
            if not job or trial.get("status") == "finished":
                continue
            with contextlib.suppress(TrialogError, OSError, ImportError):
                state = job_state(job)
                trial["job_state"] = state
                if state == "finished":
                    trial.update(
                        status="finished", **{k: v for k, v in sweep.collect(trial["id"]).items() if v}
                    )
                elif state.startswith("failed"):
                    trial.update(
                        status="error", error=f"job {job['id']} {state} (`trialog sweep --resume` retries it)"
                    )
