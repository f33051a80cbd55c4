"""The artifact store: identity round trip, tamper detection, strict metadata, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shell.errors import BadInput
from shell.store import ArtifactMeta, artifact_meta_fields, load_artifact, write_artifact

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12).map(
    lambda s: s + ".bin"
)
file_maps = st.dictionaries(names, st.binary(min_size=0, max_size=512), min_size=1, max_size=4)


def meta(config: dict | None = None) -> dict:
    return artifact_meta_fields(
        "demo", "20261121T000000Z-demo-abcdef", "thing", config or {"k": 1}, {"src": "0" * 64}, 1
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=file_maps)
def test_write_then_load_is_identity(tmp_path: Path, files: dict[str, bytes]) -> None:
    dest = tmp_path / "a"
    m = write_artifact(dest, files, meta())
    m2, got = load_artifact(dest)
    assert got == files and m2 == m


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=file_maps, data=st.data())
def test_flipping_any_byte_of_any_file_is_caught(
    tmp_path: Path, files: dict[str, bytes], data
) -> None:
    dest = tmp_path / "a"
    write_artifact(dest, files, meta())
    victims = sorted(p for p in dest.iterdir() if p.stat().st_size > 0)
    victim = data.draw(st.sampled_from(victims))
    raw = bytearray(victim.read_bytes())
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    victim.write_bytes(bytes(raw))
    with pytest.raises(BadInput) as e:
        load_artifact(dest, expect={"config.k": 1})
    assert victim.name in str(e.value) or "meta.json" in str(e.value)


def test_truncated_missing_and_unlisted_files(tmp_path: Path) -> None:
    dest = tmp_path / "a"
    write_artifact(dest, {"w.bin": b"x" * 100, "v.bin": b"y"}, meta())
    (dest / "w.bin").write_bytes(b"x" * 50)
    with pytest.raises(BadInput, match=r"w\.bin: size 50 != 100"):
        load_artifact(dest)
    (dest / "w.bin").unlink()
    with pytest.raises(BadInput, match=r"w\.bin: missing"):
        load_artifact(dest)
    write_artifact(dest, {"v.bin": b"y"}, meta())
    (dest / "extra.txt").write_text("hi")
    with pytest.raises(BadInput, match=r"extra\.txt: file not listed"):
        load_artifact(dest)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda m: m.update(surprise=1), "surprise"),
        (lambda m: m.pop("pipeline_version"), "pipeline_version"),
        (lambda m: m.update(schema_version=2), "schema_version"),
        (lambda m: m.update(created_at="yesterday"), "created_at"),
        (lambda m: m["files"]["v.bin"].update(sha256="zz"), "files.v.bin.sha256"),
    ],
)
def test_malformed_metadata_names_the_field(tmp_path: Path, mutate, field: str) -> None:
    dest = tmp_path / "a"
    write_artifact(dest, {"v.bin": b"y"}, meta())
    m = orjson.loads((dest / "meta.json").read_bytes())
    mutate(m)
    (dest / "meta.json").write_bytes(orjson.dumps(m))
    with pytest.raises(BadInput, match=rf"meta\.json: field {field}"):
        load_artifact(dest)


def test_config_mismatch_names_the_field(tmp_path: Path) -> None:
    dest = tmp_path / "a"
    write_artifact(dest, {"v.bin": b"y"}, meta({"latent": 8}))
    with pytest.raises(BadInput, match=r"field config\.latent: artifact has 8, this run needs 16"):
        load_artifact(dest, expect={"config.latent": 16})
    with pytest.raises(BadInput, match=r"field config\.depth: artifact has absent"):
        load_artifact(dest, expect={"config.depth": 2})
    load_artifact(dest, ArtifactMeta, expect={"config.latent": 8, "gate": "demo"})


def test_not_json_metadata(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "meta.json").write_text("{nope")
    with pytest.raises(BadInput, match="not valid JSON"):
        load_artifact(tmp_path / "a")


WRITER = r"""
import sys
from pathlib import Path
from shell.store import write_artifact, artifact_meta_fields
dest = Path(sys.argv[1])
meta = artifact_meta_fields("demo", "r", "thing", {}, {}, 1)
i = 0
while True:
    fill = b"AB"[i % 2 : i % 2 + 1]
    write_artifact(dest, {f"part{k}.bin": fill * 200_000 for k in range(4)}, meta)
    print(i, flush=True)
    i += 1
"""


@pytest.mark.parametrize("delay", [0.05, 0.13, 0.31])
def test_sigkill_mid_write_leaves_old_or_new_never_a_mix(tmp_path: Path, delay: float) -> None:
    dest = tmp_path / "a"
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(dest)], stdout=subprocess.PIPE)
    assert p.stdout is not None
    p.stdout.readline()  # one full artifact exists
    time.sleep(delay)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    _, files = load_artifact(dest)
    fills = {b[:1] for b in files.values()} | {b[-1:] for b in files.values()}
    assert len(files) == 4 and len(fills) == 1, "a mix of two writes"
    assert all(len(b) == 200_000 for b in files.values())
