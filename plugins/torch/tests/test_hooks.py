"""The ``torch`` entry of ``trialog.plugins``: cheap to import, RNG seeding and exact RNG restore."""

from __future__ import annotations

import subprocess
import sys
import types
import warnings

import numpy as np
import pytest
import torch
from trialog_torch import hooks

from trialog.errors import TrialogWarning

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


def _run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_hooks_does_not_import_torch_and_hooks_do_nothing_without_it():
    out = _run_python(
        "import sys\n"
        "from trialog_torch import hooks\n"
        "hooks.seed_rngs(3)\n"
        "state = hooks.get_rng_state()\n"
        "hooks.set_rng_state({'torch': [0] * 8})\n"
        "hooks.preload_trials()\n"
        "print(state, 'torch' in sys.modules)\n"
    )
    assert out == "None False"


def test_seed_rngs_makes_torch_draws_repeatable():
    hooks.seed_rngs(123)
    first = torch.rand(5)
    hooks.seed_rngs(123)
    assert torch.equal(torch.rand(5), first)
    hooks.seed_rngs(124)
    assert not torch.equal(torch.rand(5), first)


def test_rng_state_round_trip_is_exact_and_numpy_only():
    torch.manual_seed(7)
    torch.rand(3)
    state = hooks.get_rng_state()
    assert state is not None and set(state) <= {hooks.CPU_KEY, hooks.CUDA_KEY}
    assert all(isinstance(v, np.ndarray) and v.dtype == np.uint8 for v in state.values())
    expected = torch.rand(10)
    torch.rand(100)  # move the generator on, then go back
    hooks.set_rng_state(state)
    assert torch.equal(torch.rand(10), expected)


def test_set_rng_state_ignores_other_plugins_keys_and_accepts_tensors():
    state = {"python": (3, (1, 2), None), "numpy": np.zeros(3), hooks.CPU_KEY: torch.get_rng_state()}
    expected = torch.rand(4)
    hooks.set_rng_state(state)
    assert torch.equal(torch.rand(4), expected)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the warning of a machine without CUDA")
def test_cuda_states_on_a_machine_without_cuda_warn_and_keep_the_cpu_state():
    cpu = torch.get_rng_state()
    expected = torch.rand(3)
    state = {hooks.CPU_KEY: cpu.numpy(), hooks.CUDA_KEY: np.zeros((2, 16), np.uint8)}
    with pytest.warns(TrialogWarning, match=r"CUDA RNG states of 2 device\(s\)"):
        hooks.set_rng_state(state)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_rng_state_round_trip():
    torch.cuda.init()  # CUDA states are recorded once CUDA is in use
    hooks.seed_rngs(5)
    state = hooks.get_rng_state()
    assert state[hooks.CUDA_KEY].shape[0] == torch.cuda.device_count()
    expected = torch.rand(8, device="cuda")
    torch.rand(100, device="cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hooks.set_rng_state(state)
    assert torch.equal(torch.rand(8, device="cuda"), expected)


def test_the_plugin_manager_registers_the_torch_hooks():
    from trialog.hooks.plugins import get_plugin_manager

    pm = get_plugin_manager()
    assert hooks in pm.get_plugins()
    merged: dict = {}
    for part in pm.hook.get_rng_state():
        merged.update(part or {})
    assert hooks.CPU_KEY in merged


def test_add_cli_commands_delegates_to_the_cli_module(monkeypatch):
    seen = []
    fake = types.ModuleType("trialog_torch.cli")
    fake.add_commands = seen.append
    monkeypatch.setitem(sys.modules, "trialog_torch.cli", fake)
    monkeypatch.setattr(sys.modules["trialog_torch"], "cli", fake, raising=False)
    marker = object()
    hooks.add_cli_commands(marker)
    assert seen == [marker]


def test_add_cli_commands_registers_trialog_run():
    import argparse

    parser = argparse.ArgumentParser(prog="trialog")
    subparsers = parser.add_subparsers(dest="command")
    hooks.add_cli_commands(subparsers)
    assert "run" in subparsers.choices
