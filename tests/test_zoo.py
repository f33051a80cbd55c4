"""gate zoo: cards for the goldens first, add/show/compare, a shared folder and a URL."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from shell import zoo
from tests.conftest import gate_cli

REPO = Path(__file__).resolve().parents[1]


def invoke(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(gate_cli(), list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def root(project: Path) -> Path:
    shutil.copytree(REPO / "artifacts/m1", project / "artifacts/m1")
    return project


def test_goldens_are_the_first_entries(root: Path) -> None:
    code, out, err = invoke("zoo", "list", "--json")
    assert code == 0, err
    cards = orjson.loads(out)["models"]
    assert [c["name"] for c in cards] == ["autoencoder"] and cards[0]["golden"]
    c = cards[0]
    assert c["parameters"] > 100_000 and c["kind"] == "codec" and c["training"]["steps"] > 0
    meta = orjson.loads((root / "artifacts/m1/autoencoder/meta.json").read_bytes())
    assert c["files"]["model.safetensors"] == meta["files"]["model.safetensors"]["sha256"]


def test_add_show_compare_in_a_shared_folder(root: Path, tmp_path: Path) -> None:
    team = tmp_path / "team-zoo"
    code, _, err = invoke("zoo", "add", str(root / "artifacts/m1/autoencoder"), "--name", "mine",
                          "--license", "CC-BY-4.0", "--zoo", str(team))  # fmt: skip
    assert code == 0, err
    assert orjson.loads((team / "index.json").read_bytes()) == {"models": ["mine"]}
    code, out, _ = invoke("zoo", "show", "mine", "--zoo", str(team), "--json")
    card = orjson.loads(out)
    assert code == 0 and card["license"] == "CC-BY-4.0" and card["source"] == "mine/model"
    code, _, err = invoke("zoo", "add", str(root / "artifacts/m1/autoencoder"), "--name", "mine",
                          "--zoo", str(team))  # fmt: skip
    assert code == 2 and "--force" in err
    code, out, err = invoke("zoo", "compare", "autoencoder", "mine", "--zoo", str(team),
                            "--out", str(tmp_path / "c.png"))  # fmt: skip
    assert code == 0, err
    assert "parameters_M" in out and (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_a_zoo_served_over_http(root: Path, tmp_path: Path) -> None:
    team = tmp_path / "served"
    zoo.add(root / "artifacts/m1/autoencoder", "shared", "a copy", "MIT", str(team))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(team))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        card = zoo.get("shared", url)
        folder = zoo.model_folder(card, url)
        assert (folder / "model.safetensors").is_file()
        from shell.checkpoints import load_checkpoint

        load_checkpoint(folder, "patch_autoencoder")  # every hash verified
        code, _, err = invoke("zoo", "add", str(folder), "--name", "x", "--zoo", url)
        assert code == 2 and "read-only" in err
    finally:
        srv.shutdown()
