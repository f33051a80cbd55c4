"""Play sessions: a model, its context frames, a seeded noise stream, a frame counter and a deadline.

Models load on first use through shell.models (any registered world model, its golden looked up under
artifacts/*/NAME, the latest gate's: m4's predictor over m2's), each with its own Batcher. Start frames come from the built-in platformer's reset or
from a PNG the client sends.
"""

from __future__ import annotations

import asyncio
import functools
import io
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shell.server.batcher import Batcher
from shell.server.problems import Problem


@dataclass
class Session:
    id: str
    model: str
    context: Any  # float [K, 3, H, W] in [0, 1]
    gen: Any  # torch.Generator: the session's noise
    noise_dim: int
    n_actions: int
    ttl_s: float
    frame: int = 0
    created: float = field(default_factory=time.time)
    last: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def doc(self) -> dict[str, Any]:
        k, _, h, w = self.context.shape
        return {"id": self.id, "model": self.model, "frame": self.frame, "context_frames": k,
                "height": h, "width": w, "n_actions": self.n_actions, "ttl_s": self.ttl_s,
                "expires_in_s": max(0.0, self.ttl_s - (time.monotonic() - self.last))}  # fmt: skip


class Models:
    """Loaded world models and their batchers, by name."""

    def __init__(self, batching: bool = True, max_batch: int = 32, max_wait_ms: float = 5.0,
                 threads: int = 1) -> None:  # fmt: skip
        self.opts = {"enabled": batching, "max_batch": max_batch, "max_wait_ms": max_wait_ms,
                     "threads": threads}  # fmt: skip
        self.loaded: dict[str, tuple[Any, Batcher]] = {}
        self._lock = asyncio.Lock()
        self.live: Callable[[str], int] | None = None  # live sessions of a model (set by the app)

    async def get(self, name: str) -> tuple[Any, Batcher]:
        async with self._lock:
            if name not in self.loaded:
                model = await asyncio.to_thread(self._load, name)
                live = self.live
                expected = (lambda: live(name)) if live is not None else None
                self.loaded[name] = (model, Batcher(model, expected=expected, **self.opts))
            return self.loaded[name]

    def _load(self, name: str) -> Any:
        import torch

        from shell import models, paths
        from shell.errors import BadInput, Unavailable

        reg = models.load_models()
        if name not in reg.entries or reg.entries[name].kind != "world_model":
            known = [n for n, e in reg.entries.items() if e.kind == "world_model"]
            raise Problem(404, f"unknown world model {name!r}; known: {', '.join(known)}", "model")
        torch.set_num_threads(self.opts["threads"])
        try:
            entry, path = models.resolve(name, "world_model", paths.latest_golden, "m11", name)
            return models.load(entry, path, torch.device("cpu"), {"game": "platformer"})
        except Unavailable as e:
            raise Problem(409, str(e), "model") from None
        except BadInput as e:
            raise Problem(422, str(e), "model") from None

    def close(self) -> None:
        for _, b in self.loaded.values():
            b.close()


def start_frame(
    png: bytes | None, seed: int, size: tuple[int, int], level: int | None = None
) -> Any:
    """uint8 [H, W, 3]: the PNG given (resized to the model's size), or the platformer's reset (at the
    start of `level` of the seed's levels when given, else the level the seed draws)."""
    import numpy as np

    if png is not None:
        from PIL import Image, UnidentifiedImageError

        try:
            img = Image.open(io.BytesIO(png)).convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError):
            raise Problem(422, "start_png: not a PNG image", "start_png") from None
        if img.size != (size[1], size[0]):
            img = img.resize((size[1], size[0]))
        return np.asarray(img, dtype=np.uint8)
    return _reset_frame(seed, level).copy()


@functools.lru_cache(maxsize=256)
def _reset_frame(seed: int, level: int | None = None) -> Any:
    """The platformer's first frame for a seed (cached: 256 sessions start without 256 resets)."""
    if level is not None:
        from core.games import platformer

        return platformer.render_rgb(platformer.reset_level(seed, level))[0].numpy()
    from shell.registry import get_backend

    env = get_backend("builtin").create(num_envs=1, device="cpu", game="platformer")
    try:
        frames, _ = env.reset(seed)
        return frames[0].numpy()
    finally:
        env.close()


class Sessions:
    def __init__(self, ttl_s: float = 300.0, max_sessions: int = 1024) -> None:
        self.ttl_s, self.max = ttl_s, max_sessions
        self.live: dict[str, Session] = {}
        self.expired: set[str] = set()

    def create(self, model_name: str, model: Any, png: bytes | None, seed: int,
               level: int | None = None) -> Session:  # fmt: skip
        import torch

        self.sweep()
        if len(self.live) >= self.max:
            raise Problem(429, f"{self.max} sessions are live: end one first", "session",
                          {"Retry-After": "1"})  # fmt: skip
        h, w = getattr(model, "frame_size", (256, 256))
        frame = start_frame(png, seed, (h, w), level)
        from core.metrics import to_unit
        from core.models.protocols import one_frame_context

        ctx = one_frame_context(to_unit(torch.from_numpy(frame)[None]), model.context_frames)[0]
        gen = torch.Generator().manual_seed(seed)
        sid = secrets.token_hex(8)
        s = Session(sid, model_name, ctx, gen, model.noise_dim, model.n_actions, self.ttl_s)
        self.live[sid] = s
        return s

    def get(self, sid: str) -> Session:
        s = self.live.get(sid)
        if s is not None and time.monotonic() - s.last > s.ttl_s:
            self.end(sid)
            s = None
        if s is None:
            if sid in self.expired:
                raise Problem(410, f"session {sid} has expired or ended", "session_id")
            raise Problem(404, f"no session {sid}", "session_id")
        return s

    def count(self, model: str) -> int:
        return sum(1 for s in list(self.live.values()) if s.model == model)

    def end(self, sid: str) -> Session | None:
        s = self.live.pop(sid, None)
        if s is not None:
            self.expired.add(sid)
        return s

    def sweep(self) -> None:
        now = time.monotonic()
        for sid in [k for k, s in list(self.live.items()) if now - s.last > s.ttl_s]:
            self.end(sid)


async def step(s: Session, batcher: Batcher, action: int) -> Any:
    """One step: the next frame (float [3, H, W]); the context slides by one."""
    import torch

    if not 0 <= action < s.n_actions:
        raise Problem(422, f"action: {action} is not in 0..{s.n_actions - 1}", "action")
    async with s.lock:
        noise = torch.randn(s.noise_dim, generator=s.gen)
        frame = await batcher.submit(s.context, action, noise)
        s.context = torch.cat([s.context[1:], frame.unsqueeze(0)])
        s.frame += 1
        s.last = time.monotonic()
        return frame


def encode(frame: Any, fmt: str) -> bytes:
    """float [3, H, W] -> PNG bytes, or raw uint8 RGB bytes (H*W*3, row-major)."""
    arr = frame.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).contiguous().numpy()
    if fmt == "raw":
        return arr.tobytes()
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)  # speed over size
    return buf.getvalue()
