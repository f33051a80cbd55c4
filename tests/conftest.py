"""Shared fixtures: a scratch project root per test, and the demo third-party plugin installed once."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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
