"""What a gate sees while it runs (RunContext), the options a run takes and the result it gives.

All IO of a run goes through the RunContext: metrics, criteria, candidate artifacts, pictures, bundle
files, progress. shell/runner.py drives a run around it.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from shell import paths
from shell.errors import BadInput
from shell.receipt import Receipt
from shell.registry import Gate
from shell.store import ArtifactMeta, artifact_meta_fields, sha256_bytes, write_artifact


@dataclass
class RunOptions:
    backend: str | None = None  # None: the gate's default backend
    device: str = "auto"  # auto: CUDA when present
    seed: int = 0
    json: bool = False
    log_jsonl: bool = False
    config_file: Path | None = None
    overrides: list[str] = field(
        default_factory=list
    )  # key=value, value parsed as JSON when it parses
    model: str | None = None  # --model NAME_OR_PATH: the config's `model`, for gates that judge one


@dataclass
class RunResult:
    run_id: str | None
    gate: str
    exit_code: int
    passed: bool
    message: str = ""
    metrics: list[dict[str, Any]] = field(default_factory=list)
    criteria: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    run_dir: str | None = None
    repro: str | None = None
    duration_s: float = 0.0
    verb: str | None = (
        None  # set for a gate verb's run (`gate m3 capture`): not a verdict on the gate
    )

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


PROGRESS_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


class RunContext:
    """What a gate sees while it runs. All IO of a run goes through here."""

    def __init__(
        self, gate: Gate, run_id: str, opts: RunOptions, config: Any, receipt: Receipt
    ) -> None:
        self.gate, self.run_id, self.opts, self.config, self.receipt = (
            gate,
            run_id,
            opts,
            config,
            receipt,
        )
        self.run_dir = paths.run_dir(run_id)
        self.seed = opts.seed
        self.backend = opts.backend or gate.default_backend
        self.metrics: list[dict[str, Any]] = []
        self.criteria: list[dict[str, Any]] = []
        self.artifacts: list[str] = []
        self._bundle: dict[str, bytes] = {}
        self._device: Any = None

    @property
    def device(self) -> Any:
        """The torch device, resolved on first use (torch is imported only by gates that need it)."""
        if self._device is None:
            self._device = resolve_device(self.opts.device)
        return self._device

    def say(self, text: str) -> None:
        print(text, file=sys.stderr if self.opts.json else sys.stdout, flush=True)

    def step(self, **fields: Any) -> None:
        if self.opts.log_jsonl:
            self.receipt.emit("step", **fields)

    def metric(self, name: str, value: float, unit: str = "") -> None:
        rec = {"name": name, "value": float(value), "unit": unit}
        self.metrics.append(rec)
        self.receipt.emit("metric", **rec)

    def check(self, name: str, value: float) -> bool:
        c = self.gate.criterion(name)
        ok = c.check(value)
        rec = {
            "name": name,
            "value": float(value),
            "op": c.op,
            "threshold": float(c.threshold),
            "passed": ok,
        }
        self.criteria = [x for x in self.criteria if x["name"] != name] + [rec]
        self.receipt.emit("criterion", **rec)
        return ok

    def write_artifact(
        self,
        name: str,
        files: dict[str, bytes],
        inputs: dict[str, str],
        pipeline_version: int,
        meta_cls: type[ArtifactMeta] = ArtifactMeta,
        meta_name: str = "meta.json",
        extra_meta: dict[str, Any] | None = None,
    ) -> Path:
        """A candidate artifact at .gate/runs/<run_id>/<name>/ (approve it to make it golden)."""
        dest = self.run_dir / name
        cfg = config_dict(self.config)
        meta = artifact_meta_fields(self.gate.id, self.run_id, name, cfg, inputs, pipeline_version)
        m = write_artifact(dest, files, {**meta, **(extra_meta or {})}, meta_cls, meta_name)
        meta_sha = sha256_bytes((dest / meta_name).read_bytes())
        self.receipt.emit(
            "artifact",
            path=str(dest),
            sha256=meta_sha,
            name=name,
            meta=meta_name,
            files=len(m.files),
        )
        self.artifacts.append(str(dest))
        return dest

    def picture(self, name: str, png: bytes) -> Path:
        """A PNG for people to look at, next to the receipt; its path is printed."""
        path = self.run_dir / name
        path.write_bytes(png)
        self.receipt.emit("artifact", path=str(path), sha256=sha256_bytes(png), kind="picture")
        self.say(f"picture: {path}")
        return path

    def bundle_file(self, name: str, data: bytes) -> None:
        """A file for the failure bundle; written only if the run fails."""
        self._bundle[name] = data

    @contextlib.contextmanager
    def progress(self, total: int, description: str) -> Iterator[Any]:
        """advance(n=1) inside; a rich progress bar on a terminal. Not on one (output redirected), a line
        on stderr and a `progress` event in the receipt every PROGRESS_EVERY seconds, so a long run
        shows it is alive."""
        if not sys.stderr.isatty():
            done, t0 = 0, time.monotonic()
            last = [t0]

            def advance(n: int = 1) -> None:
                nonlocal done
                done += n
                now = time.monotonic()
                if now - last[0] >= PROGRESS_EVERY or (done >= total > 0 and last[0] > t0):
                    last[0] = now
                    el = now - t0
                    print(f"gate: {description}: {done}/{total} ({el:.0f} s)", file=sys.stderr,
                          flush=True)  # fmt: skip
                    self.receipt.emit("progress", what=description, done=done, total=total,
                                      elapsed_s=round(el, 2))  # fmt: skip

            yield advance
            return
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)


def resolve_device(name: str) -> Any:
    import re

    import torch

    from shell.errors import Unavailable

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    m = re.fullmatch(r"cuda(?::(\d{1,4}))?", name)
    if name != "cpu" and m is None:
        raise BadInput(f"--device {name!r}: expected auto, cpu, cuda or cuda:N")
    if m is not None:
        if not torch.cuda.is_available():
            raise Unavailable(f"--device {name}: CUDA is not available on this machine")
        if m.group(1) is not None and int(m.group(1)) >= torch.cuda.device_count():
            raise Unavailable(
                f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    return torch.device(name)


def config_dict(config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, dict):
        return orjson.loads(orjson.dumps(config, default=str))
    return config.model_dump(mode="json")
