"""Gate m2's configuration model; imported only when a run needs it (pydantic is slow to import)."""

from __future__ import annotations

from gates.common.config import ModelGateConfig


class M2Config(ModelGateConfig):
    eval_episodes: int = 8  # envs: several levels
    eval_steps: int = 96  # long enough for the camera to start scrolling (~50 frames in)
    window_stride: int = 8  # one window every 8 frames: ~90 windows, a few seconds on a CPU
    rollout_starts: tuple[int, ...] = (
        20,
        50,
        80,
    )  # 10-step rollouts: running, scrolling starts, scrolling
    diverse_envs: int = (
        32  # envs branched for the diversity probe: >= STOCHASTIC_MIN contexts differ
    )
    diverse_copies: int = 32  # RNG keys (ALE: sticky-action draws) per branch; platformer enemies
    # turn with p = 1/64 per frame each, so 32 keys show a turn of a visible enemy ~40% of the time;
    # also the samples drawn per context (spec.DIVERSE_SAMPLES = 0), so the oracle can show the rare one
    diverse_every: int = 3  # branch every 3 frames, up to eval_steps
    device_threads: int = 1  # torch CPU threads (0 = min(2, cores)); 1: robust on a shared box
