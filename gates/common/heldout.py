"""m1's and m2's measures on a dataset's held-out episodes (any game, any frame size): what
`gate m12 finetune` reports for the model it wrote and what gate m12 compares.

m1 (a FrameCodec): mean PSNR and SSIM of the reconstructions through the stored latent, and the PSNR
pooled over the moving pixels (those that differ from their episode's per-pixel median background by
more than core.metrics.MOVING_TOL), on every `stride`-th frame of each held-out episode.
m2 (a WorldModel): one-step MSE of the next frame from the 3 before it and the action (fixed noise),
beside copy-last-frame's, and the MSE after `horizon` steps of the model's own rollout. Windows that
cross a reset (`truth_done`) are left out. Pixels in [0, 1]. Torch is imported by the functions.
"""

from __future__ import annotations

from typing import Any

BATCH = 8


def m1_measures(codec: Any, frames: Any, episodes: list[int], stride: int = 2) -> dict[str, float]:
    """frames uint8 [E, T+1, H, W, 3] (numpy); episodes: the held-out indices."""
    import torch

    from core.metrics import (
        background,
        masked_sq_error,
        moving_mask,
        psnr,
        psnr_of_sq_error,
        ssim,
        to_unit,
    )

    ps, ss, sq, cnt = [], [], 0.0, 0
    with torch.no_grad():
        for e in episodes:
            ep = torch.from_numpy(frames[e])  # uint8 [T+1, H, W, 3]
            pick = ep[::stride]
            mask = moving_mask(pick, background(ep))  # bool [N, H, W]
            h, w = pick.shape[1:3]
            for i in range(0, pick.shape[0], BATCH):
                x = pick[i : i + BATCH]
                y = codec.decode(codec.encode(x), (h, w)).float().cpu().clamp(0, 1)
                xu = to_unit(x)
                ps.append(psnr(y, xu))
                ss.append(ssim(y, xu))
                a, n = masked_sq_error(y, xu, mask[i : i + BATCH])
                sq, cnt = sq + a, cnt + n
    return {
        "psnr": float(torch.cat(ps).mean()),
        "ssim": float(torch.cat(ss).mean()),
        "psnr_moving": psnr_of_sq_error(sq, cnt),
    }


def windows(done: Any, episodes: list[int], stride: int, ahead: int = 1) -> list[tuple[int, int]]:
    """(episode, t): frames t-2..t+ahead inside one episode (no reset among them)."""
    t_end = done.shape[1] - ahead
    return [
        (e, t)
        for e in episodes
        for t in range(2, t_end, stride)
        if not done[e, t - 1 : t + ahead + 1].any()
    ]


def m2_measures(wm: Any, frames: Any, actions: Any, done: Any, episodes: list[int],
                horizon: int = 5, seed: int = 0) -> dict[str, float]:  # fmt: skip
    """One-step MSE (model and copy-last) and the MSE after `horizon` rollout steps."""
    import torch

    from core.metrics import mse, to_unit

    f = torch.from_numpy(frames)  # uint8 [E, T+1, H, W, 3]
    a = torch.from_numpy(actions)  # int64 [E, T]
    gen = torch.Generator().manual_seed(seed)
    one, base, roll = [], [], []
    ws = windows(done, episodes, 1)
    with torch.no_grad():
        for i in range(0, len(ws), BATCH):
            b = ws[i : i + BATCH]
            c = torch.stack([to_unit(f[e, t - 2 : t + 1]) for e, t in b])  # [B, 3, 3, H, W]
            y = torch.stack([to_unit(f[e, t + 1][None])[0] for e, t in b])  # [B, 3, H, W]
            act = torch.stack([a[e, t] for e, t in b])
            z = torch.randn(len(b), wm.noise_dim, generator=gen)
            p = wm.predict(c, act, z).float().clamp(0, 1)
            one.append(mse(p, y))
            base.append(mse(c[:, -1], y))
        rw = windows(done, episodes, max(1, horizon), horizon)
        for i in range(0, len(rw), BATCH):
            b = rw[i : i + BATCH]
            c = torch.stack([to_unit(f[e, t - 2 : t + 1]) for e, t in b])
            acts = torch.stack([a[e, t : t + horizon] for e, t in b])  # [B, horizon]
            z = torch.randn(len(b), horizon, wm.noise_dim, generator=gen)
            out = wm.rollout(c, acts, z).float().clamp(0, 1)[:, -1]  # [B, 3, H, W]
            y = torch.stack([to_unit(f[e, t + horizon][None])[0] for e, t in b])
            roll.append(mse(out, y))
    nan = float("nan")
    return {
        "mse": float(torch.cat(one).mean()) if one else nan,
        "baseline_mse": float(torch.cat(base).mean()) if base else nan,
        f"rollout_mse_{horizon}": float(torch.cat(roll).mean()) if roll else nan,
        "windows": float(len(ws)),
    }
