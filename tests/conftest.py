"""Shared fixtures: a scratch project root per test, and the demo third-party plugin installed once;
torch on one CPU thread at the start of every test; `gate` as a click command, built once; pytest's
scratch folders on tmpfs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import click

REPO = Path(__file__).resolve().parents[1]
_GATE_CLI: dict[tuple, click.Command] = {}


def gate_cli() -> click.Command:
    """`gate` as the click command that typer's CliRunner.invoke builds from shell.cli.build_app():
    typer reads ~100 commands' signatures to build it (~30 ms), and the suite invokes it some 300
    times (10 s). Built here once for each set of registered gates (a plugin test registers more,
    each import of it new Gate objects) and invoked with click's CliRunner, as typer's does."""
    import typer.main

    from shell import cli
    from shell.registry import load_gates

    reg = load_gates()
    key = (*((g.id, id(g)) for g in reg.gates.values()), *map(id, reg.composites.values()),
           *reg.problems)  # fmt: skip
    if key not in _GATE_CLI:  # the command keeps these Gate objects alive: no id is reused
        _GATE_CLI[key] = typer.main.get_command(cli.build_app())
    return _GATE_CLI[key]


def pytest_configure(config: pytest.Config) -> None:
    """Scratch folders (tmp_path) on tmpfs (/dev/shm) where there is one with room, unless --basetemp
    or PYTEST_DEBUG_TEMPROOT says where. On this machine's disk (ext4 on a virtual disk, mounted with
    discard) each fsync took ~7 ms and each unlink ~3 ms, and the suite makes ~1,300 fsyncs (the
    store, receipts) besides the ledger's sqlite commits, and removes ~1,000 files; test_store,
    test_cli, test_corpus, test_ledger, test_zoo and test_lineage took 43-50 s on the disk while
    another job used it, 21-22 s on tmpfs. The same calls run on tmpfs, in the page cache. pytest
    keeps the last 3 runs' folders there (~0.4 GB each)."""
    shm = "/dev/shm"
    if config.option.basetemp or "PYTEST_DEBUG_TEMPROOT" in os.environ:
        return
    if not os.path.isdir(shm) or not os.access(shm, os.W_OK | os.X_OK):
        return
    st = os.statvfs(shm)
    if st.f_bavail * st.f_frsize >= 4 << 30:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = shm


def save_untrained_predictor(dest: Path, cfg, prepare=None) -> Path:
    """An untrained predictor of architecture `cfg` (core.models.predictor.PredictorConfig) written
    as a checkpoint artifact for the built-in platformer, as a train verb writes one; seed 0.
    prepare(net), when given, edits the network first."""
    import torch

    from core.games.platformer import ACTIONS
    from core.models.predictor import FramePredictor
    from shell import checkpoints

    torch.manual_seed(0)
    net = FramePredictor(cfg)
    if prepare is not None:
        prepare(net)
    model_meta = {"arch": "frame_predictor", "config": cfg.to_dict(), "frame_shape": [256, 256, 3],
                  "game": "platformer", "backend": "builtin", "action_names": list(ACTIONS)}  # fmt: skip
    checkpoints.save_checkpoint(dest, "m2", "test", {}, checkpoints.pack(net),
                                model_meta, {"steps": 0}, [], {})  # fmt: skip
    return dest


def install_into(target: Path, project: Path) -> Path:
    """A package installed, for real, into a folder of its own (as pip would into site-packages)."""
    uv = shutil.which("uv")
    assert uv, "uv must be on PATH to install a plugin package"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(project)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(autouse=True)
def one_torch_thread() -> None:
    """Torch on one CPU thread in this process at the start of every test, whatever an earlier test or
    command left set. The tests' tensors are small; on this 2-core machine a second OpenMP worker only
    spins against the suite's own subprocesses, servers and browser (and any other job) for the cores:
    a 12-step training loop took 4-16 s on two threads beside a busy process, 0.1 s on one. A command
    under test still sets its own thread count (--threads, device_threads) as it always does."""
    torch = sys.modules.get("torch")  # imported by the test modules; a torch-free run stays light
    if torch is not None:
        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/plugin_pkg installed into a folder of its own."""
    target = install_into(tmp_path_factory.mktemp("plugin-site"), REPO / "tests" / "plugin_pkg")
    assert list(target.glob("wg_demo_plugin*.dist-info")), (
        "the plugin's dist-info was not installed"
    )
    return target


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project root: artifacts/ and .gate/ land here, never in the repository."""
    monkeypatch.setenv("GATE_ROOT", str(tmp_path))
    monkeypatch.delenv("GATE_STATE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


@pytest.fixture
def with_plugin(plugin_site: Path, project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(plugin_site))
    monkeypatch.setenv("PYTHONPATH", str(plugin_site))
    for mod in [m for m in sys.modules if m.startswith("wg_demo_plugin")]:
        del sys.modules[mod]
    return project
