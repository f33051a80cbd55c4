"""The model zoo: model cards and the weights they describe, local by default, shared through a folder
or a URL.

Where: `--zoo DIR_OR_URL`, else GATE_ZOO, else `.gate/zoo/` of this checkout. A zoo folder holds one
folder per entry, `NAME/card.json` beside `NAME/model/` (the model's artifact folder, every file hashed
in its meta.json), and `index.json` (the names), so any static web server publishes it:
`GATE_ZOO=https://host/zoo` then reads `index.json`, `NAME/card.json` and, when a model is used, its
files into `.gate/zoo-cache/NAME/model/`, each checked against the card's sha256.

The project's goldens (every `artifacts/<gate>/<name>/` whose meta.json names a model architecture)
are the first entries of every zoo, their cards made from the goldens themselves.

A card: name, kind (codec, world_model), arch, what it is (summary), parameters, the data it was
trained on and its sha256, the training budget (steps, seconds, device), license, the gates it passed
with their figures (from this checkout's ledger: the newest run of each model gate that judged it), its
held-out figures from training, and the sha256 of every file. Nothing here imports torch.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any

import orjson

from shell import paths
from shell.errors import BadInput

CARD = "card.json"
INDEX = "index.json"
MODEL = "model"
MAX_CARD = 1 << 20
MAX_FILE = 2 << 30
JUDGES = {"codec": ("m1",), "world_model": ("m2", "m11")}


def location(zoo: str | None = None) -> str:
    return zoo or os.environ.get("GATE_ZOO", "") or str(paths.state_dir() / "zoo")


def is_url(loc: str) -> bool:
    return loc.startswith(("http://", "https://"))


def _read_json(path: Path, what: str) -> Any:
    from shell.safety import read_input_file

    try:
        return orjson.loads(read_input_file(path, what, limit=MAX_CARD))
    except orjson.JSONDecodeError as e:
        raise BadInput(f"{path}: not JSON ({e})") from None


def safetensors_params(path: Path) -> int:
    """Parameters in a safetensors file's "model.*" tensors, from its header alone."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > MAX_CARD * 16:
            raise BadInput(f"{path}: not a safetensors file (header of {n} bytes)")
        try:
            head = orjson.loads(f.read(n))
        except orjson.JSONDecodeError:
            raise BadInput(f"{path}: not a safetensors file") from None
    total = 0
    for k, v in head.items():
        if k.startswith("model.") and isinstance(v, dict):
            p = 1
            for d in v.get("shape", []):
                p *= int(d)
            total += p
    return total


def make_card(folder: Path, name: str, summary: str = "", license: str = "unspecified",
              source: str = "") -> dict[str, Any]:  # fmt: skip
    """A card for the model artifact at folder (figures from the ledger are added by `gates`)."""
    from shell.models import _arch_of, load_models

    meta = _read_json(folder / "meta.json", "model metadata")
    arch = _arch_of(folder)
    entry = next((e for e in load_models().entries.values() if arch in e.arches), None)
    tr = meta.get("training", {}) if isinstance(meta.get("training"), dict) else {}
    model = meta.get("model", {}) if isinstance(meta.get("model"), dict) else {}
    files = {f: v.get("sha256") for f, v in sorted(meta.get("files", {}).items())}
    weights = folder / "model.safetensors"
    data = tr.get("data") if isinstance(tr.get("data"), dict) else {}
    return {
        "name": name,
        "kind": entry.kind if entry else "unknown",
        "arch": arch,
        "loader": entry.name if entry else "",
        "summary": summary or (entry.summary if entry else arch),
        "parameters": safetensors_params(weights) if weights.is_file() else None,
        "game": model.get("game", ""),
        "data": {"description": data, "sha256": meta.get("inputs", {}).get("frames", "")},
        "training": {k: tr.get(k) for k in ("steps", "seconds", "device", "batch", "from")},
        "heldout": {k: v for k, v in tr.items() if k.startswith("heldout_")},
        "license": license,
        "source": source or str(folder),
        "run_id": meta.get("run_id", ""),
        "files": files,
        "meta_sha256": meta.get("metadata_sha256", ""),
    }


def goldens() -> list[dict[str, Any]]:
    """The project's goldens as cards: the zoo's first entries."""
    out = []
    art = paths.root() / "artifacts"
    for meta in sorted(art.glob("*/*/meta.json")):
        try:
            m = orjson.loads(meta.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if isinstance(m.get("model"), dict) and "arch" in m["model"]:
            card = make_card(meta.parent, meta.parent.name, license="the worldgate repository's")
            card["source"] = str(meta.parent.relative_to(paths.root()))
            card["golden"] = True
            out.append(card)
    return out


def _remote(url: str, rel: str) -> bytes:
    import httpx

    try:
        r = httpx.get(f"{url.rstrip('/')}/{rel}", timeout=30, follow_redirects=True)
    except httpx.HTTPError as e:
        raise BadInput(f"{url}: cannot read {rel} ({type(e).__name__})") from None
    if r.status_code != 200:
        raise BadInput(f"{url}/{rel}: HTTP {r.status_code}")
    return r.content


def entries(zoo: str | None = None) -> list[dict[str, Any]]:
    """Every card: the goldens, then the zoo's entries by name."""
    from shell.safety import plain_name

    loc = location(zoo)
    cards = goldens()
    if is_url(loc):
        try:
            names = orjson.loads(_remote(loc, INDEX)).get("models", [])
        except (orjson.JSONDecodeError, AttributeError):
            raise BadInput(f'{loc}/{INDEX}: not a zoo index ({{"models": [names]}})') from None
        for n in names:
            card = orjson.loads(_remote(loc, f"{plain_name(n, 'zoo entry')}/{CARD}"))
            cards.append(_checked(card, f"{loc}/{n}/{CARD}", n))
        return cards
    root = Path(loc)
    if root.exists() and not root.is_dir():
        raise BadInput(f"--zoo {loc}: not a folder")
    for card_path in sorted(root.glob(f"*/{CARD}")) if root.is_dir() else []:
        cards.append(
            _checked(_read_json(card_path, "model card"), card_path, card_path.parent.name)
        )
    return cards


def _checked(card: Any, where: Any, name: str) -> dict[str, Any]:
    if (
        not isinstance(card, dict)
        or card.get("name") != name
        or not isinstance(card.get("files"), dict)
    ):
        raise BadInput(f"{where}: not a model card named {name!r} (name, files, ...)")
    return card


def find(name: str, zoo: str | None = None) -> dict[str, Any] | None:
    for c in entries(zoo):
        if c["name"] == name:
            return c
    return None


def get(name: str, zoo: str | None = None) -> dict[str, Any]:
    card = find(name, zoo)
    if card is None:
        known = ", ".join(c["name"] for c in entries(zoo)) or "none"
        raise BadInput(f"zoo entry {name!r}: not in {location(zoo)} (entries: {known})")
    return card


def model_folder(card: dict[str, Any], zoo: str | None = None) -> Path:
    """The folder holding the card's model: the golden, the zoo's copy, or a verified download."""
    from shell.store import sha256_bytes

    if card.get("golden"):
        return paths.root() / card["source"]
    loc = location(zoo)
    if not is_url(loc):
        return Path(loc) / card["name"] / MODEL
    dest = paths.state_dir() / "zoo-cache" / card["name"] / MODEL
    for f, sha in card["files"].items():
        p = dest / f
        if p.is_file() and sha256_bytes(p.read_bytes()) == sha:
            continue
        data = _remote(loc, f"{card['name']}/{MODEL}/{f}")
        if sha256_bytes(data) != sha:
            raise BadInput(f"{loc}/{card['name']}/{MODEL}/{f}: sha256 differs from its card")
        from shell.atomic import write_bytes_atomic

        write_bytes_atomic(p, data)
    meta = _remote(loc, f"{card['name']}/{MODEL}/meta.json")
    from shell.atomic import write_bytes_atomic

    write_bytes_atomic(dest / "meta.json", meta)
    return dest


def add(folder: Path, name: str, summary: str, license: str, zoo: str | None = None,
        force: bool = False) -> dict[str, Any]:  # fmt: skip
    """Copy the model artifact at folder into the zoo as NAME, with its card; atomic per entry."""
    from shell.checkpoints import ModelMeta
    from shell.safety import plain_name
    from shell.store import load_artifact

    plain_name(name, "--name")
    loc = location(zoo)
    if is_url(loc):
        raise BadInput(f"--zoo {loc}: a URL zoo is read-only (add to its folder and publish that)")
    if any(c.get("golden") and c["name"] == name for c in goldens()):
        raise BadInput(f"--name {name}: the name of a golden (pick another)")
    load_artifact(folder, ModelMeta, "meta.json")  # every hash verified, no unlisted file
    card = make_card(folder, name, summary, license)
    root = Path(loc)
    dest = root / name
    if dest.exists() and not force:
        raise BadInput(f"{dest}: exists (add --force to replace it)")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        shutil.copytree(folder, tmp / MODEL)
        card["source"] = f"{name}/{MODEL}"
        (tmp / CARD).write_bytes(orjson.dumps(card, option=orjson.OPT_INDENT_2))
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    from shell.atomic import write_bytes_atomic

    names = sorted(p.parent.name for p in root.glob(f"*/{CARD}"))
    write_bytes_atomic(root / INDEX, orjson.dumps({"models": names}, option=orjson.OPT_INDENT_2))
    return card


def gates(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The newest run of each model gate that judged this card's model (its golden by default, its
    folder or name given as --model), and the run that made it (a gate m12 run, a train verb's), with
    its verdict and criteria (a verb's held-out metrics), from this checkout's ledger."""
    from shell import ledger

    out: dict[str, dict[str, Any]] = {}
    want = {card["name"], card.get("source", ""), f"{card.get('loader')}:{card.get('source')}"}
    for g in JUDGES.get(card.get("kind", ""), ()):
        for run in ledger.query_runs(paths.ledger_path(), gate=g, limit=200, kind="gate"):
            cfg = run.get("config") or {}
            model = cfg.get("model", "") if isinstance(cfg, dict) else ""
            if not (model in want or (card.get("golden") and model in ("", card.get("loader")))):
                continue
            full = ledger.get_run(paths.ledger_path(), run["id"]) or run
            out[g] = {
                "verdict": "pass" if run.get("exit_code") == 0 else "fail",
                "run_id": run["id"],
                "when": run.get("started_at"),
                "figures": {c["name"]: c["value"] for c in full.get("criteria", [])},
            }
            break
    rid = card.get("run_id", "")
    made = ledger.get_run(paths.ledger_path(), rid) if rid else None
    if made is not None and made.get("gate") not in out:  # the run that made it, e.g. gate m12
        out[made["gate"]] = {
            "verdict": "pass" if made.get("exit_code") == 0 else "fail",
            "run_id": rid,
            "when": made.get("started_at"),
            "made_by": made.get("kind", "gate"),
            "figures": {c["name"]: c["value"] for c in made.get("criteria", [])}
            or {m["name"]: m["value"] for m in made.get("metrics", []) if "heldout" in m["name"]},
        }
    return out
