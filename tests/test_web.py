"""The web pages of gate serve through FastAPI's TestClient: every page and asset served with no
external resource, the page key (only while reads are open), a level in the URL, lineage as JSON.
The real-browser checks are in test_m10.py."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from shell.server.app import ServerConfig, create_app
from shell.server.routes_web import WEB


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GATE_STATE", str(state))
        with TestClient(create_app(ServerConfig(db=state / "server.db"))) as c:
            yield c


@pytest.mark.parametrize("path", ["/", "/play", "/runs", "/runs/20261121T101500Z-m1-3fa2c1",
                                  "/demo/m1", "/demo/m2", "/demo/m3", "/demo/m4", "/demo/m5",
                                  "/demo/m11", "/demo/m12"])  # fmt: skip
def test_every_page_is_served_with_a_policy_that_allows_no_other_origin(client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert re.search(r'<main id="main"', r.text) and 'name="viewport"' in r.text


def test_assets_name_no_cdn_and_exist() -> None:
    text = "\n".join(f.read_text() for f in WEB.iterdir())
    assert not re.search(r"(src|href)=\"https?://|import .* from \"https?://", text)
    for ref in set(re.findall(r"\"/web/([\w-]+\.\w+)", text)) | set(
        re.findall(r"\./([\w-]+\.mjs)", text)
    ):
        assert (WEB / ref).is_file(), ref


def test_unknown_demo_and_asset_are_problems_naming_the_field(client) -> None:
    r = client.get("/demo/m99")
    assert r.status_code == 404 and r.json()["field"] == "gate"
    assert client.get("/web/..%2Fapp.py").status_code == 404
    assert client.get("/web/nope.mjs").status_code == 404


def test_the_page_key_plays_while_reads_are_open(client) -> None:
    cfg = client.get("/v1/web/config").json()
    assert cfg["key"].startswith("wg_page_") and cfg["models"][0]["name"] == "predictor"
    auth = {"Authorization": f"Bearer {cfg['key']}"}
    r = client.post("/v1/sessions", json={"seed": 3, "level": 2}, headers=auth)
    assert r.status_code == 201, r.text
    assert (
        client.post("/v1/sessions", json={"level": 8}, headers=auth).json()["field"] == "body.level"
    )
    assert client.post("/v1/sessions", json={}).status_code == 401  # no key: still refused


def test_no_page_key_when_reads_are_closed(tmp_path: Path) -> None:
    app = create_app(ServerConfig(db=tmp_path / "s.db", open_reads=False))
    with TestClient(app) as c:
        assert c.get("/v1/web/config").json()["key"] is None
        assert app.state.keys.page_key is None


def test_a_levels_start_frame_differs_from_another_level() -> None:
    from shell.server.sessions import start_frame

    a, b = start_frame(None, 0, (256, 256), 0), start_frame(None, 0, (256, 256), 1)
    assert a.shape == (256, 256, 3) and (a != b).any()


def test_lineage_of_an_unknown_run_is_a_404_naming_run_id(client) -> None:
    r = client.get("/v1/runs/20261121T101500Z-m1-3fa2c1/lineage")
    assert r.status_code == 404 and r.json()["field"] == "run_id"


def test_m1_live_reconstructs_an_upload_and_names_a_bad_one(client) -> None:
    import base64
    import io

    from PIL import Image

    from shell.server.sessions import start_frame

    key = {"Authorization": f"Bearer {client.get('/v1/web/config').json()['key']}"}
    buf = io.BytesIO()
    Image.fromarray(start_frame(None, 0, (144, 160))).save(buf, format="PNG")
    body = {"image": base64.b64encode(buf.getvalue()).decode()}
    r = client.post("/v1/demo/m1/reconstruct", json=body, headers=key)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["psnr_db"] > 20 and doc["latent_bytes"] < doc["frame_bytes"]
    assert base64.b64decode(doc["heatmap"]).startswith(b"\x89PNG")
    bad = client.post("/v1/demo/m1/reconstruct", json={"image": "bm90IGFuIGltYWdl"}, headers=key)
    assert bad.status_code == 422 and bad.json()["field"] == "image"
    assert client.post("/v1/demo/m1/reconstruct", json=body).status_code == 401
    huge = io.BytesIO()
    Image.new("1", (5000, 5000)).save(huge, format="PNG")  # a few KB claiming 25 M pixels
    r = client.post("/v1/demo/m1/reconstruct", headers=key,
                    json={"image": base64.b64encode(huge.getvalue()).decode()})  # fmt: skip
    assert r.status_code == 422 and "pixels" in r.json()["detail"]
