"""Gate m1's configuration model; imported only when a run needs it (pydantic is slow to import)."""

from __future__ import annotations

from gates.common.config import ModelGateConfig


class M1Config(ModelGateConfig):
    eval_episodes: int = 8  # 8 envs: several levels, so the latent picture has clusters
    eval_steps: int = 320  # steps per episode: the platformer's camera scrolls ~600 px by then
    eval_start: int = 64  # first kept step: past the opening screen and Atari intros (Ms. Pac-Man)
    eval_noop_max: int = (
        30  # + a seeded random 0..30 steps per episode: varied starts (ALE protocol)
    )
    eval_stride: int = 20  # then every 20th step: ~100 frames spread over whole episodes
    timing_runs: int = 20  # batch-1 encode+decode runs timed (median), after 3 warm-ups
    device_threads: int = (
        1  # torch CPU threads (0 = min(2, cores)); 1: an upper bound on the spec's
    )
    # 2-core machine that does not depend on other work (OpenMP workers spin on a shared box)
