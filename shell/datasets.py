"""Frame datasets: collect episodes from any backend, write them as a hashed artifact, load them back.

    ds = collect("builtin", episodes=64, steps=200, policy="scripted", seed=0, render="shades")
    path = write_dataset(Path("data/plat"), ds, {})          # atomic, every file hashed
    ds2 = load_dataset(path)                                 # verifies every hash (BadInput if not)

A dataset holds E episodes (one env of the batch each) of T steps: frames [E, T+1, ...] (the reset
frame, then one per step), actions [E, T] (action t leads from frame t to frame t+1), ground truth
[E, T+1, ...] per key, and a split of episode indices into train and heldout, drawn from the seed.
`truth["done"][e, t]` is True where frame t starts a fresh game episode after an in-step reset (the
game ended on step t-1 and the backend reset that env inside the step); it is False at t = 0.

Policies: "random" and "scripted". A backend that knows its game (builtin: HasPolicies) supplies both.
For the others, "random" is uniform and "scripted" falls back to a sticky-random policy: keep the
previous action with probability STICKY_P, else draw a uniform one (long runs of one action, so moves
show up in the frames). Both fallbacks draw from a torch.Generator seeded by the seed, on the CPU.

Files: frames.npy, actions.npy, truth_<key>.npy (np.save, allow_pickle=False), split.json and the
store's meta.json, which carries the dataset's description under `dataset`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from shell.errors import BadInput, Unavailable
from shell.store import ArtifactMeta, artifact_meta_fields, load_artifact, write_artifact

PIPELINE_VERSION = 1  # bump when collect() would give other bytes for the same arguments
POLICIES = ("random", "scripted")
STICKY_P = 0.75  # fallback "scripted": mean run of one action = 4 steps, like ALE's frame skip
HELDOUT_FRACTION = 0.2  # a fifth of the episodes held out: enough to measure, most left to train
META_NAME = "meta.json"


@dataclass
class Dataset:
    frames: np.ndarray  # uint8 [E, T+1, H, W, 3] (or [E, T+1, H, W] shades)
    actions: np.ndarray  # int64 [E, T]
    truth: dict[str, np.ndarray]  # each [E, T+1, ...]; includes "done" bool [E, T+1]
    split: dict[str, list[int]]  # {"train": [...], "heldout": [...]} episode indices
    meta: dict[str, Any] = field(
        default_factory=dict
    )  # backend, game, policy, seed, action_names...

    @property
    def episodes(self) -> int:
        return int(self.frames.shape[0])

    @property
    def steps(self) -> int:
        return int(self.actions.shape[1])


class DatasetMeta(ArtifactMeta):
    dataset: dict[str, Any]  # Dataset.meta: how it was collected


def split_episodes(episodes: int, seed: int, heldout_fraction: float) -> dict[str, list[int]]:
    """Disjoint train/heldout episode indices, a pure function of (episodes, seed, fraction). With two
    or more episodes and a fraction in (0, 1), each side gets at least one."""
    if not 0.0 <= heldout_fraction < 1.0:
        raise BadInput(f"heldout_fraction: {heldout_fraction} must lie in [0, 1)")
    n_held = round(episodes * heldout_fraction)
    if heldout_fraction > 0 and episodes >= 2:
        n_held = min(max(n_held, 1), episodes - 1)
    perm = np.random.default_rng(seed).permutation(episodes)
    return {
        "train": sorted(int(i) for i in perm[n_held:]),
        "heldout": sorted(int(i) for i in perm[:n_held]),
    }


MAX_EPISODES = 1 << 16  # envs stepped side by side in one batch
MAX_STEPS = 1_000_000


def _check_fits(nbytes: int, episodes: int, steps: int) -> None:
    """Frames are held in memory: refuse a dataset larger than half of this machine's RAM up front,
    rather than being killed while filling it."""
    import os

    try:
        ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    if nbytes > ram // 2:
        raise BadInput(
            f"episodes {episodes} x steps {steps}: the frames would take {nbytes / 1e9:.1f} GB, more "
            f"than half of this machine's {ram / 1e9:.1f} GB (collect fewer, or in parts)"
        )


def collect(
    backend: str,
    episodes: int,
    steps: int,
    policy: str = "scripted",
    seed: int = 0,
    device: str = "cpu",
    heldout_fraction: float = HELDOUT_FRACTION,
    progress: Callable[[int], None] | None = None,
    **backend_options: Any,
) -> Dataset:
    """Run `episodes` envs in one batch for `steps` steps under `policy` and keep every frame.

    Raises BadInput (unknown backend, option or game; bad counts), Unavailable (the backend cannot run
    here); a backend's own BackendError at step time propagates (it is a bug in the policy)."""
    import torch

    from shell.backends.base import BackendError, BackendUnavailable, HasPolicies
    from shell.registry import get_backend

    if policy not in POLICIES:
        raise BadInput(f"policy: {policy!r}; expected one of {', '.join(POLICIES)}")
    if episodes < 1 or steps < 1:
        raise BadInput(f"episodes and steps must be >= 1, got episodes={episodes} steps={steps}")
    if episodes > MAX_EPISODES or steps > MAX_STEPS:
        raise BadInput(
            f"episodes {episodes}, steps {steps}: at most {MAX_EPISODES} episodes (run side by side) "
            f"and {MAX_STEPS} steps"
        )
    split = split_episodes(episodes, seed, heldout_fraction)
    entry = get_backend(backend)
    why = entry.available()
    if why is not None:
        raise Unavailable(f"backend {backend}: {why}")
    try:
        env = entry.create(num_envs=episodes, device=device, **backend_options)
    except BackendUnavailable as e:
        raise Unavailable(f"backend {backend}: {e}") from None
    except (BackendError, TypeError) as e:
        raise BadInput(f"backend {backend}: {e}") from None
    try:
        frame, info = env.reset(seed)  # uint8 [E, H, W(, 3)]
        _check_fits(episodes * (steps + 1) * frame[0].numel(), episodes, steps)
        frames = torch.empty((episodes, steps + 1, *frame.shape[1:]), dtype=torch.uint8)
        actions = torch.empty((episodes, steps), dtype=torch.int64)
        truth = _TruthBuffer(episodes, steps)
        frames[:, 0] = frame.cpu()
        truth.put(0, info, first=True)
        own = isinstance(env, HasPolicies)
        fallback = _FallbackPolicy(policy, episodes, env.codec.n, seed)
        for t in range(steps):
            a = env.policy_actions(policy, seed) if own else None
            a = fallback() if a is None else a  # int64 [E]
            frame, info = env.step(a)
            actions[:, t] = a.cpu()
            frames[:, t + 1] = frame.cpu()
            truth.put(t + 1, info)
            if progress is not None:
                progress(1)
        spec = env.frame_spec
        meta = {
            "backend": backend,
            "game": _game_name(env, backend_options),
            "policy": policy,
            "policy_source": "backend" if own else f"fallback (sticky p={STICKY_P})",
            "seed": seed,
            "episodes": episodes,
            "steps": steps,
            "device": str(device),
            "action_names": list(env.codec.names),
            "codec_id": env.codec.id,
            "frame_spec": {
                "height": spec.height,
                "width": spec.width,
                "channels": spec.channels,
                "levels": spec.levels,
            },  # fmt: skip
            "backend_options": {k: _jsonable(v) for k, v in sorted(backend_options.items())},
            "heldout_fraction": heldout_fraction,
            "pipeline_version": PIPELINE_VERSION,
        }
    finally:
        env.close()
    return Dataset(frames.numpy(), actions.numpy(), truth.arrays(), split, meta)


class _FallbackPolicy:
    """Generic policies for backends that have none of their own (see the module docstring)."""

    def __init__(self, policy: str, n: int, n_actions: int, seed: int) -> None:
        import torch

        self.policy, self.n, self.k = policy, n, n_actions
        self.gen = torch.Generator(device="cpu").manual_seed(seed)
        self.prev = torch.randint(0, n_actions, (n,), generator=self.gen)  # int64 [N]

    def __call__(self) -> Any:
        import torch

        fresh = torch.randint(0, self.k, (self.n,), generator=self.gen)  # int64 [N]
        if self.policy == "random":
            return fresh
        keep = torch.rand(self.n, generator=self.gen) < STICKY_P  # bool [N]
        self.prev = torch.where(keep, self.prev, fresh)
        return self.prev


class _TruthBuffer:
    """Ground truth per key into host arrays [E, T+1, ...]. A key's shape is fixed by its first value;
    later values of another shape, and values that are not per-env arrays, are left out."""

    def __init__(self, episodes: int, steps: int) -> None:
        self.e, self.t = episodes, steps
        self.bufs: dict[str, np.ndarray] = {}
        self.done = np.zeros((episodes, steps + 1), dtype=bool)  # bool [E, T+1]

    def put(self, t: int, info: dict[str, Any], first: bool = False) -> None:
        for k, v in info.items():
            arr = _host(v)
            if arr is None or arr.ndim == 0 or arr.shape[0] != self.e or arr.dtype == object:
                continue  # not per-env ground truth (a scalar, a string, a list of dicts)
            if k == "done":
                self.done[:, t] = False if first else arr.astype(bool)
                continue
            if k not in self.bufs:  # a key first seen after reset is zero before it
                self.bufs[k] = np.zeros((self.e, self.t + 1, *arr.shape[1:]), dtype=arr.dtype)
            buf = self.bufs[k]
            if buf is not None and buf.shape[2:] == arr.shape[1:]:
                buf[:, t] = arr

    def arrays(self) -> dict[str, np.ndarray]:
        return {**self.bufs, "done": self.done}


def _host(v: Any) -> np.ndarray | None:
    try:
        import torch

        if isinstance(v, torch.Tensor):
            return v.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if isinstance(v, np.ndarray):
        return v
    if isinstance(v, list | tuple):
        try:
            return np.asarray(v)
        except ValueError:
            return None
    return None


def _game_name(env: Any, options: dict[str, Any]) -> str:
    g = getattr(env, "game", None)
    g = getattr(g, "id", g)
    return str(g if isinstance(g, str) else options.get("game", options.get("env_id", "")))


def _jsonable(v: Any) -> Any:
    return orjson.loads(orjson.dumps(v, default=str))


# -- files -----------------------------------------------------------------------------------------

_TRUTH_KEY = re.compile(r"^[A-Za-z0-9_]+$")


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def write_dataset(dest: Path, ds: Dataset, meta_fields: dict[str, Any]) -> Path:
    """Write ds at dest as an artifact (atomic; every file listed with sha256 and size in meta.json).

    meta_fields: the store's common fields (shell.store.artifact_meta_fields); any left out are filled
    for a dataset written outside a run (gate "data", run_id "", config = ds.meta)."""
    _check_shapes(ds, dest)
    files = {"frames.npy": _npy(ds.frames), "actions.npy": _npy(ds.actions.astype(np.int64))}
    for k, v in ds.truth.items():
        if not _TRUTH_KEY.match(k):
            raise BadInput(f"{dest}: truth key {k!r} must be letters, digits and _")
        files[f"truth_{k}.npy"] = _npy(v)
    split = {
        "train": [int(i) for i in ds.split["train"]],
        "heldout": [int(i) for i in ds.split["heldout"]],
    }
    files["split.json"] = orjson.dumps(split, option=orjson.OPT_INDENT_2)
    defaults = artifact_meta_fields("data", "", dest.name, _jsonable(ds.meta), {}, PIPELINE_VERSION)
    meta = {**defaults, **meta_fields, "dataset": _jsonable(ds.meta)}
    meta.pop("files", None)
    meta.pop("metadata_sha256", None)
    write_artifact(dest, files, meta, DatasetMeta, META_NAME)
    return dest


def load_dataset(path: Path) -> Dataset:
    """Read a dataset written by write_dataset; every hash is verified. BadInput names the bad file."""
    path = Path(path)
    m, files = load_artifact(path, DatasetMeta, META_NAME)

    def arr(name: str) -> np.ndarray:
        if name not in files:
            raise BadInput(f"{path / name}: missing (not listed in {META_NAME})")
        try:
            return np.load(io.BytesIO(files[name]), allow_pickle=False)
        except ValueError as e:
            raise BadInput(f"{path / name}: not a .npy array without pickles ({e})") from None

    truth = {
        n[6:-4]: arr(n) for n in sorted(files) if n.startswith("truth_") and n.endswith(".npy")
    }
    try:
        split = orjson.loads(files.get("split.json", b"null"))
        split = {
            "train": [int(i) for i in split["train"]],
            "heldout": [int(i) for i in split["heldout"]],
        }
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
        raise BadInput(
            f'{path / "split.json"}: must hold {{"train": [...], "heldout": [...]}}'
        ) from None
    ds = Dataset(arr("frames.npy"), arr("actions.npy"), truth, split, dict(m.dataset))
    _check_shapes(ds, path)
    return ds


def _check_shapes(ds: Dataset, where: Path) -> None:
    f, a = ds.frames, ds.actions
    if f.dtype != np.uint8 or f.ndim not in (4, 5):
        raise BadInput(
            f"{where / 'frames.npy'}: must be uint8 [E, T+1, H, W(, 3)], got {f.dtype} {f.shape}"
        )
    e, t1 = f.shape[:2]
    if a.ndim != 2 or a.shape != (e, t1 - 1) or a.dtype.kind not in "iu":
        raise BadInput(
            f"{where / 'actions.npy'}: must be int [{e}, {t1 - 1}], got {a.dtype} {a.shape}"
        )
    for k, v in ds.truth.items():
        if v.shape[:2] != (e, t1):
            raise BadInput(
                f"{where / f'truth_{k}.npy'}: must start with [{e}, {t1}], got {v.shape}"
            )
    if "done" not in ds.truth:
        raise BadInput(f"{where / 'truth_done.npy'}: missing (every dataset marks its resets)")
    train, held = set(ds.split.get("train", [])), set(ds.split.get("heldout", []))
    if train & held or not (train | held) <= set(range(e)):
        raise BadInput(
            f"{where / 'split.json'}: train and heldout must be disjoint indices in 0..{e - 1}"
        )
