"""Fitting a PoseSlot (core/models/poses.py) from the game's frames and where the game drew the player.

    box = boxes(screen_xy, 16)                        # int64 [E, T+1, 2]: the sprite box's top-left
    counts = fit_dictionary(slot, frames, box)        # the player's colours, poses and anchor
    x, y = pose_samples(slot, frames, actions, done, box, gen)   # features and next poses
    loss = pose_loss(slot, x, y)

Where the game drew the player (its `screen_x`, `screen_y`) is truth used in training only, as the labels
of a supervised problem; the slot reads the player off the pixels when it runs. frames are uint8
[E, T+1, H, W, 3] (the game's renders), one time step at a time in float (a float copy of all is GBs).
No IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.models.poses import MIN_ANCHOR, PoseSlot

ENRICHED = 20.0  # a player colour is this many times commoner inside the player's box than overall
MIN_SHARE = 0.005  # ... and at least this share of the box's pixels (stray specks are not the player)
MIN_POSE = 0.001  # a pose seen in fewer than this share of boxes is an occlusion, not a pose
NO_PAST = 0.25  # share of samples with no move before (a rollout from one frame starts so)


def boxes(screen_xy: torch.Tensor, box: int) -> torch.Tensor:
    """float [..., 2] centres of the drawn sprite -> int64 [..., 2] its box's top-left."""
    return (screen_xy - box / 2).round().long()


def _unit(frames: torch.Tensor) -> torch.Tensor:
    return frames.permute(0, 3, 1, 2).float() / 255  # uint8 [N, H, W, 3] -> float [N, 3, H, W]


def _inside(box: torch.Tensor, h: int, w: int, size: int, margin: int = 0) -> torch.Tensor:
    x, y = box[..., 0], box[..., 1]
    return (x >= 0) & (x <= w - size) & (y >= margin) & (y <= h - size - margin)


def player_colours(frames: torch.Tensor, box: torch.Tensor, size: int, keep: int) -> torch.Tensor:
    """uint8 [N, H, W, 3] and their boxes [N, 2] -> uint8 [C <= keep, 3]: the colours enriched in
    the player's boxes (ENRICHED, MIN_SHARE), commonest first."""
    n, h, w, _ = frames.shape
    key = frames.long()
    key = (key[..., 0] << 16) | (key[..., 1] << 8) | key[..., 2]  # [N, H, W]
    ok = _inside(box, h, w, size)
    r = torch.arange(size)
    ys, xs = box[ok, 1, None] + r, box[ok, 0, None] + r  # [M, B]
    inner = key[ok][torch.arange(int(ok.sum()))[:, None, None], ys[:, :, None], xs[:, None, :]]
    u_in, c_in = inner.unique(return_counts=True)
    u_all, c_all = key.unique(return_counts=True)
    overall = c_all[torch.searchsorted(u_all, u_in)].float() / c_all.sum()  # [U]
    share = c_in.float() / c_in.sum()
    good = (share >= MIN_SHARE) & (share / overall >= ENRICHED)
    pick = u_in[good][share[good].argsort(descending=True)][:keep]
    return torch.stack([(pick >> 16) & 255, (pick >> 8) & 255, pick & 255], 1).to(torch.uint8)


def fit_dictionary(slot: PoseSlot, frames: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Set the slot's colours, dictionary (the distinct player crops, commonest first) and anchor
    (the colour present in every pose whose centroid moves least across them: the shirt, centred on
    the hitbox) from frames uint8 [E, T+1, H, W, 3] and boxes [E, T+1, 2] -> each pose's count."""
    cfg = slot.cfg
    b = cfg.box
    flat, fbox = frames.flatten(0, 1), box.flatten(0, 1)
    every = max(1, flat.shape[0] // 200)  # 200 frames tell the colours apart
    cols = player_colours(flat[::every], fbox[::every], b, cfg.colours)
    if cols.shape[0] == 0:
        raise ValueError("no colour is enriched in the player's boxes: is the box where it is drawn?")
    slot.colours.zero_()[: cols.shape[0]] = cols.float() / 255
    slot.n_colours.fill_(cols.shape[0])
    crops = []
    for t in range(frames.shape[1]):
        at = box[:, t]  # [E, 2]
        ok = _inside(at, *frames.shape[2:4], b)
        crops.append(slot.colour_index(slot.window(_unit(frames[:, t]), at, b))[ok])  # [M, B, B]
    u, cnt = torch.cat(crops).flatten(1).unique(dim=0, return_counts=True)
    order = cnt.argsort(descending=True)
    keep = order[cnt[order] >= max(2, MIN_POSE * cnt.sum())][: cfg.poses]
    atlas = u[keep].view(-1, b, b)  # [K, B, B]
    slot.atlas.fill_(-1)[: atlas.shape[0]] = atlas
    slot.n_poses.fill_(atlas.shape[0])
    r = torch.arange(b, dtype=torch.float32) + 0.5
    best, spread = 0, float("inf")
    for c in range(cols.shape[0]):
        m = (atlas == c).float()  # [K, B, B]
        n = m.sum((1, 2))
        if bool((n < MIN_ANCHOR).any()):
            continue
        cx = (m.sum(1) * r).sum(1) / n  # [K]
        if float(cx.std()) < spread:
            best, spread = c, float(cx.std())
    m = (atlas == best).float()
    n = m.sum((1, 2))
    off = torch.stack([(m.sum(1) * r).sum(1) / n, (m.sum(2) * r).sum(1) / n], 1)  # [K, 2]
    slot.anchor.fill_(best)
    slot.anchor_off.zero_()[: atlas.shape[0]] = off
    return cnt[keep]


def _pose(slot: PoseSlot, frame: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """The dictionary entry drawn exactly at box [N, 2] of frame float [N, 3, H, W], -1 for none."""
    got = slot.colour_index(slot.window(frame, box, slot.cfg.box))  # [N, B, B]
    k = int(slot.n_poses)
    same = (got[:, None] == slot.atlas[None, :k]).flatten(2).all(2)  # [N, K]
    return torch.where(same.any(1), same.float().argmax(1), -1)


def pose_samples(
    slot: PoseSlot, frames: torch.Tensor, actions: torch.Tensor, done: torch.Tensor,
    box: torch.Tensor, gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The slot's features for every step whose player is drawn whole before and after, and the pose
    the game drew next: frames uint8 [E, T+1, H, W, 3], actions int64 [E, T], done bool [E, T] (the
    env reset after that step), boxes [E, T+1, 2] -> float [M, F], int64 [M]."""
    cfg = slot.cfg
    e, t1, h, w, _ = frames.shape
    xs, ys = [], []
    now = _pose(slot, _unit(frames[:, 0]), box[:, 0])
    for t in range(t1 - 1):
        nxt_frame = _unit(frames[:, t + 1])
        nxt = _pose(slot, nxt_frame, box[:, t + 1])
        ok = (now >= 0) & (nxt >= 0) & ~done[:, t] & _inside(box[:, t + 1], h, w, cfg.box, cfg.margin)
        had = torch.zeros(e, dtype=torch.bool) if t == 0 else ~done[:, t - 1]
        had = had & (torch.rand(e, generator=gen) >= NO_PAST)
        before = torch.where(had[:, None], box[:, t] - box[:, t - 1 if t else 0], 0).float()
        x = slot.features(now.clamp(min=0), actions[:, t], (box[:, t + 1] - box[:, t]).float(),
                          before, slot.under(nxt_frame, box[:, t + 1]))  # fmt: skip
        xs.append(x[ok])
        ys.append(nxt[ok])
        now = nxt
    return torch.cat(xs), torch.cat(ys)


def pose_loss(slot: PoseSlot, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the next pose: features [N, F], poses int64 [N] -> scalar."""
    return F.cross_entropy(slot.logits(x), y)
