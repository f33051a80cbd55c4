"""Latency and throughput of the m1 autoencoder and the m2 predictor, at batch 1 and 64, on the CPU
(and on CUDA where present).

    uv run python bench/bench_models.py [--threads 2] [--runs 10]

Uses the golden checkpoints when they exist (timings do not depend on the weights, only on the
architecture, so a fresh model of the default architecture stands in otherwise). Prints a Markdown
table: ms per call (median), frames/s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from core.models.autoencoder import AEConfig, PatchAutoencoder
from core.models.predictor import FramePredictor, PredictorConfig

ROOT = Path(__file__).resolve().parents[1]


def load_models() -> tuple[PatchAutoencoder, FramePredictor, str]:
    from shell.builtin_models import load_autoencoder, load_predictor
    from shell.errors import GateError

    cpu = torch.device("cpu")
    try:
        ae = load_autoencoder(ROOT / "artifacts/m1/autoencoder", cpu, {}).model
        what = ["m1 golden"]
    except GateError:  # no golden yet: the default architecture, freshly initialised
        ae, what = PatchAutoencoder(AEConfig()), ["m1 default architecture"]
    try:
        net = load_predictor(ROOT / "artifacts/m2/predictor", cpu, {}).net
        what.append("m2 golden")
    except GateError:
        net = FramePredictor(PredictorConfig())
        what.append("m2 default architecture")
    return ae, net, ", ".join(what)


def timed(fn, runs: int, device: torch.device) -> float:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(2):
        fn()
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


@torch.no_grad()
def bench(device: torch.device, runs: int) -> list[tuple[str, str, int, float, float]]:
    ae, net, what = load_models()
    ae, net = ae.to(device).eval(), net.to(device).eval()
    rows = []
    for b in (1, 64):
        x = torch.rand(b, 3, 256, 256, device=device)
        ctx = torch.rand(b, 3, 3, 256, 256, device=device)
        a = torch.zeros(b, dtype=torch.int64, device=device)
        z = torch.randn(b, net.cfg.noise_dim, device=device)
        n = max(2, runs // (8 if b > 1 and device.type == "cpu" else 1))
        zl = ae.encode(x)
        for name, fn in (
            ("encode", lambda x=x: ae.encode(x)),
            ("decode", lambda zl=zl: ae.decode(zl)),
            ("encode+decode (fp16 latent)", lambda x=x: ae.roundtrip(x)),
            ("predict next frame", lambda ctx=ctx, a=a, z=z: net(ctx, a, z)),
        ):
            ms = timed(fn, n, device)
            rows.append((str(device), name, b, ms, b / ms * 1000))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (the spec's 2 cores)")
    ap.add_argument("--runs", type=int, default=10, help="timed calls per figure (median)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"models: {load_models()[2]}; torch CPU threads {torch.get_num_threads()}\n")
    print("| device | what | batch | ms per call | frames/s |")
    print("| --- | --- | --- | --- | --- |")
    for dev in devices:
        for d, name, b, ms, fps in bench(dev, args.runs):
            print(f"| {d} | {name} | {b} | {ms:.1f} | {fps:,.0f} |")


if __name__ == "__main__":
    main()
