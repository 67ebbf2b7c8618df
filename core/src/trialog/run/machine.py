"""The machine a run ran on, for run.json's ``machine`` (xmen's ``get_meta``).

CPU, RAM, SLURM job, conda environment and the environment variables on :data:`ENV_ALLOW_LIST` (credential-
shaped values redacted, credential-named variables never read); GPUs and CUDA come from the framework
plugins' ``describe_machine`` hook (trialog-torch). :func:`peak_rss_mb` is the process's memory peak.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialog.run.redact import looks_like_credential_name, redact_text

#: Environment variables recorded (exact names, or a prefix ending in "*"); never secrets.
ENV_ALLOW_LIST: tuple[str, ...] = (
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PYTHONHASHSEED",
    "CUBLAS_WORKSPACE_CONFIG",
    "WORLD_SIZE",
    "RANK",
    "LOCAL_RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
    "SLURM_*",
)
_SLURM = {
    "job_id": "SLURM_JOB_ID",
    "array_job_id": "SLURM_ARRAY_JOB_ID",
    "array_task_id": "SLURM_ARRAY_TASK_ID",
    "nodelist": "SLURM_JOB_NODELIST",
    "partition": "SLURM_JOB_PARTITION",
}


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware"):
                return value.strip() or None
    return platform.processor() or None


def ram_gb() -> float | None:
    """Physical memory in GiB (None where the OS does not say)."""
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 2)
    except (ValueError, OSError, AttributeError):
        return None


def allowed_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed environment variables (:data:`ENV_ALLOW_LIST`), credential-shaped values redacted."""
    env = os.environ if environ is None else environ
    out = {}
    for name in sorted(env):
        if looks_like_credential_name(name):
            continue
        if any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in ENV_ALLOW_LIST):
            out[name] = redact_text(env[name])
    return out


def describe_machine(plugin_hooks: Any = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """run.json's ``machine``: CPU, RAM, SLURM, conda, allow-listed environment, plus the plugins' answers."""
    env = os.environ if environ is None else environ
    machine: dict[str, Any] = {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "ram_gb": ram_gb(),
        "slurm": {key: env[var] for key, var in _SLURM.items() if var in env} or None,
        "conda_env": env.get("CONDA_DEFAULT_ENV"),
        "conda_prefix": env.get("CONDA_PREFIX"),
        "environ": allowed_environ(env),
    }
    if plugin_hooks is not None and plugin_hooks.has("describe_machine"):
        for part in plugin_hooks.call("describe_machine"):
            machine.update(part or {})
    return machine


def machine_line(machine: Mapping[str, Any]) -> str:
    """One line for ``trialog runs show``: CPU, RAM, GPUs, CUDA, SLURM job."""
    parts = [f"{machine.get('cpu_count')} × {machine.get('cpu_model') or 'unknown CPU'}"]
    if machine.get("ram_gb") is not None:
        parts.append(f"{machine['ram_gb']} GiB RAM")
    gpus = machine.get("gpus") or []
    if gpus:
        names = sorted({str(g.get("name")) for g in gpus})
        parts.append(f"{len(gpus)} GPU ({', '.join(names)})")
    if machine.get("cuda"):
        parts.append(
            f"CUDA {machine['cuda']}" + (f", cuDNN {machine['cudnn']}" if machine.get("cudnn") else "")
        )
    slurm = machine.get("slurm") or {}
    if slurm.get("job_id"):
        parts.append(f"SLURM job {slurm['job_id']}")
    if machine.get("conda_env"):
        parts.append(f"conda {machine['conda_env']}")
    return "; ".join(parts)


def peak_rss_mb() -> float:
    """The process's peak resident memory in MiB (``resource.getrusage``; 0.0 where it is not available)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


__all__ = [
    "ENV_ALLOW_LIST",
    "allowed_environ",
    "cpu_model",
    "describe_machine",
    "machine_line",
    "peak_rss_mb",
    "ram_gb",
]
