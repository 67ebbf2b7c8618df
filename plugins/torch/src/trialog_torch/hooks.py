"""The ``torch`` entry of ``trialog.plugins``: seeds and snapshots torch's RNGs, adds ``trialog run`` (and runs a
config for other plugins: ``run_config``, trialog-sweep's trials), describes the GPUs and CUDA for run.json's
``machine``, probes the GPU memory peak for a Monitor's ``probe`` spec and imports torch's lazily imported parts
in a sweep's trial server (``preload_trials``).

Loaded for every Experiment, so it stays cheap: torch is never imported here. The RNG hooks act only
when the user's code already imported torch, so a numpy-only experiment never pays for it.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialog.api import hookimpl
from trialog.errors import TrialogWarning

#: Keys this plugin contributes to the merged RNG state.
CPU_KEY = "torch"
CUDA_KEY = "torch_cuda"


def _torch() -> Any | None:
    """The torch module when the process already imported it, else None."""
    return sys.modules.get("torch")


def _cuda_ready(torch: Any) -> bool:
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a broken driver must not stop a CPU run
        return False


def _cuda_in_use(torch: Any) -> bool:
    # Reading the CUDA generators would create a context on every GPU (memory, seconds) in a process
    # that never used CUDA. Until CUDA is initialised its generators hold only the lazily applied seed,
    # which a resumed run, seeded the same way, applies again.
    try:
        return bool(torch.cuda.is_initialized())
    except Exception:
        return False


@hookimpl
def seed_rngs(seed: int) -> None:
    """Seed torch's CPU generator and every CUDA device's generator."""
    torch = _torch()
    if torch is None:
        return
    torch.manual_seed(seed)  # also seeds all CUDA devices (lazily when CUDA is not initialised yet)


@hookimpl
def get_rng_state() -> Mapping[str, Any] | None:
    """Torch CPU state and, once CUDA is in use, one row per device, as uint8 numpy arrays."""
    torch = _torch()
    if torch is None:
        return None
    state: dict[str, Any] = {CPU_KEY: torch.get_rng_state().numpy().copy()}
    if _cuda_in_use(torch):
        import numpy

        rows = [s.cpu().numpy() for s in torch.cuda.get_rng_state_all()]
        if rows:
            state[CUDA_KEY] = numpy.stack(rows)
    return state


@hookimpl
def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`get_rng_state` produced; keys of other plugins are ignored."""
    torch = _torch()
    if torch is None:
        return
    if CPU_KEY in state:
        torch.set_rng_state(_as_byte_tensor(torch, state[CPU_KEY]))
    if CUDA_KEY in state:
        rows = [_as_byte_tensor(torch, row) for row in state[CUDA_KEY]]
        if not _cuda_ready(torch):
            warnings.warn(
                f"the checkpoint holds CUDA RNG states of {len(rows)} device(s) but CUDA is not available here; "
                "they are not restored, so GPU randomness will differ from the original run",
                TrialogWarning,
                stacklevel=2,
            )
            return
        n_here = torch.cuda.device_count()
        if n_here != len(rows):
            warnings.warn(
                f"the checkpoint holds CUDA RNG states of {len(rows)} device(s), this machine has {n_here}; "
                f"restoring the first {min(n_here, len(rows))}",
                TrialogWarning,
                stacklevel=2,
            )
        for index, row in enumerate(rows[:n_here]):
            torch.cuda.set_rng_state(row, device=index)


def _as_byte_tensor(torch: Any, value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to(device="cpu", dtype=torch.uint8).contiguous()
    import numpy

    return torch.from_numpy(numpy.ascontiguousarray(numpy.asarray(value, dtype=numpy.uint8)).copy())


@hookimpl
def describe_machine() -> Mapping[str, Any] | None:
    """The torch version, CUDA/cuDNN versions and the GPUs (model, memory) for run.json's ``machine``.

    Reading the GPUs' properties initialises CUDA; that is done only on a machine where CUDA is available.
    """
    torch = _torch()
    if torch is None:
        return None
    cudnn = None
    try:
        cudnn = torch.backends.cudnn.version()
    except Exception:  # a build without cuDNN
        cudnn = None
    info: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": cudnn,
        "gpus": [],
    }
    if _cuda_ready(torch):
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            info["gpus"].append({"name": props.name, "memory_gb": round(props.total_memory / 2**30, 2)})
    info["gpu_count"] = len(info["gpus"])
    return info


@hookimpl
def preload_trials() -> None:
    """In a sweep's trial server whose trials use torch: import what torch imports on a trial's first use.

    ``torch._dynamo`` (with sympy) is imported by the first optimizer a process builds: seconds that the
    first trials forked from the server would pay each. Nothing runs: the server forks its trials afterwards.
    """
    if _torch() is not None:
        importlib.import_module("torch._dynamo")


@hookimpl
def probe_resources() -> Mapping[str, float] | None:
    """``sys/gpu_mem_peak_mb``: the peak GPU memory torch allocated on the current device (once CUDA is in use)."""
    torch = _torch()
    if torch is None or not _cuda_in_use(torch):
        return None
    return {"sys/gpu_mem_peak_mb": torch.cuda.max_memory_allocated() / 2**20}


@hookimpl
def add_cli_commands(subparsers: Any) -> None:
    """Add ``trialog run`` (from :mod:`trialog_torch.cli`)."""
    from .cli import add_commands

    add_commands(subparsers)


@hookimpl
def run_config(config: str, base_dir: str | None, resume: str | None, quiet: bool) -> list[Path]:
    """Run the config file as ``trialog run CONFIG --base-dir BASE_DIR [--resume RUN] [--quiet]`` does.

    trialog-sweep runs a sweep's trials through this hook; the run folders (one, or one per k-fold fold).
    """
    from .cli import run_config as run

    outcome = run(Path(config), resume=resume, quiet=quiet, base_dir=base_dir)
    return [Path(run_dir) for run_dir in outcome.run_dirs if run_dir is not None]
