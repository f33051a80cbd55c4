"""Fitting a PoseSlot (core/models/poses.py) from the game's frames and where the game drew the player.

    box = boxes(screen_xy, 16)                        # int64 [E, T+1, 2]: the sprite box's top-left
    counts = fit_dictionary(slot, frames, box)        # the player's colours, poses and anchor
    fit_solid(slot, frames, box, on_ground)           # the colours it stands on
    rows = pose_samples(slot, frames, actions, done, box, gen)   # features, next poses and moves
    loss = pose_loss(slot, {k: v[i] for k, v in rows.items()})

Where the game drew the player (its `screen_x`, `screen_y`) is truth used in training only, as the labels
of a supervised problem; the slot reads the player off the pixels when it runs. frames are uint8
[E, T+1, H, W, 3] (the game's renders), one time step at a time in float (a float copy of all is GBs).
No IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.models.poses import MIN_ANCHOR, PoseSlot, bounds

ENRICHED = 20.0  # a player colour is this many times commoner inside the player's box than overall
MIN_SHARE = (
    0.005  # ... and at least this share of the box's pixels (stray specks are not the player)
)
MIN_POSE = 0.001  # a pose seen in fewer than this share of boxes is an occlusion, not a pose
SEEN_BEHIND = 0.001  # a colour the player stands on shows behind it at most this share of the time
NO_PAST = 0.25  # share of samples with no move before (a rollout from one frame starts so)


def boxes(screen_xy: torch.Tensor, box: int) -> torch.Tensor:
    """float [..., 2] centres of the drawn sprite -> int64 [..., 2] its box's top-left."""
    return (screen_xy - box / 2).round().long()


def _unit(frames: torch.Tensor) -> torch.Tensor:
    return frames.permute(0, 3, 1, 2).float() / 255  # uint8 [N, H, W, 3] -> float [N, 3, H, W]


def _inside(box: torch.Tensor, h: int, w: int, size: int, margin: int = 0) -> torch.Tensor:
    lo, hi = bounds(h, w, size, margin, box.device)
    return ((box >= lo) & (box <= hi)).all(-1)


def player_colours(frames: torch.Tensor, box: torch.Tensor, size: int, keep: int) -> torch.Tensor:
    """uint8 [N, H, W, 3] and their boxes [N, 2] -> float [C <= keep, 3]: the colours enriched in
    the player's boxes (ENRICHED, MIN_SHARE), commonest first."""
    n, h, w, _ = frames.shape
    key = _pack(frames.long())  # [N, H, W]
    ok = _inside(box, h, w, size)
    r = torch.arange(size)
    ys, xs = box[ok, 1, None] + r, box[ok, 0, None] + r  # [M, B]
    inner = key[ok][torch.arange(int(ok.sum()))[:, None, None], ys[:, :, None], xs[:, None, :]]
    u_in, c_in = inner.unique(return_counts=True)
    u_all, c_all = key[:, ::2, ::2].unique(return_counts=True)  # a quarter of the pixels: shares
    u_all, c_all = torch.cat([u_all, u_in]), torch.cat([c_all, torch.ones_like(c_in)])
    u_all, back = u_all.unique(return_inverse=True)  # every box colour counted at least once
    c_all = torch.zeros_like(u_all).index_add_(0, back, c_all)
    overall = c_all[torch.searchsorted(u_all, u_in)].float() / c_all.sum()  # [U]
    share = c_in.float() / c_in.sum()
    good = (share >= MIN_SHARE) & (share / overall >= ENRICHED)
    return _unit_keys(u_in[good][share[good].argsort(descending=True)][:keep])


def fit_dictionary(slot: PoseSlot, frames: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Set the slot's colours, dictionary (the distinct player crops, commonest first) and anchor
    (the colour present in every pose whose centroid moves least across them: the shirt, centred on
    the hitbox) from frames uint8 [E, T+1, H, W, 3] and boxes [E, T+1, 2] -> each pose's count."""
    cfg = slot.cfg
    b = cfg.box
    flat, fbox = frames.flatten(0, 1), box.flatten(0, 1)
    every = max(1, flat.shape[0] // 64)  # 64 frames tell the colours apart
    cols = player_colours(flat[::every], fbox[::every], b, cfg.colours)
    if cols.shape[0] == 0:
        raise ValueError(
            "no colour is enriched in the player's boxes: is the box where it is drawn?"
        )
    slot.colours.zero_()[: cols.shape[0]] = cols
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
    best, spread, off = 0, float("inf"), torch.zeros(atlas.shape[0], 2)
    for c in range(cols.shape[0]):
        m = (atlas == c).float()  # [K, B, B]
        n = m.sum((1, 2))
        if bool((n < MIN_ANCHOR).any()):
            continue
        xy = torch.stack([(m.sum(1) * r).sum(1) / n, (m.sum(2) * r).sum(1) / n], 1)  # [K, 2]
        if float(xy[:, 0].std()) < spread:
            best, spread, off = c, float(xy[:, 0].std()), xy
    slot.anchor.fill_(best)
    slot.anchor_off.zero_()[: atlas.shape[0]] = off
    return cnt[keep]


def fit_solid(
    slot: PoseSlot, frames: torch.Tensor, box: torch.Tensor, ground: torch.Tensor
) -> None:
    """Set the colours the player stands on: those of the row under its hitbox while the game says
    it is on the ground (ground bool [E, T+1]) that almost never show behind it (the sky and the hills
    do: it passes in front of them), commonest first."""
    cfg = slot.cfg
    b = cfg.box
    under, behind = [], []
    for t in range(frames.shape[1]):
        img, at = _unit(frames[:, t]), box[:, t]
        ok = _inside(at, *frames.shape[2:4], b, 1)
        row = slot.window(img, at, 1, b)[:, :, 0, 2 : b - 2]  # [E, 3, 12]: the hitbox's columns
        under.append(_keys(row.permute(0, 2, 1))[ok & ground[:, t]].flatten())
        inner = slot.window(img, at, b)  # [E, 3, B, B]
        back = slot.colour_index(inner) < 0  # [E, B, B]: not the player's own pixels
        behind.append(_keys(inner.permute(0, 2, 3, 1))[ok[:, None, None] & back])
    u, cu = torch.cat(under).unique(return_counts=True)
    v, cv = torch.cat(behind).unique(return_counts=True)
    shown = torch.zeros_like(cu)
    hit = torch.isin(u, v)
    shown[hit] = cv[torch.searchsorted(v, u[hit])]
    share_under, share_behind = cu.float() / cu.sum(), shown.float() / max(1, int(cv.sum()))
    mine = slot.colour_index(_unit_keys(u)) >= 0  # the player's shoes stand on its own row
    good = (share_under >= MIN_SHARE) & (share_behind <= SEEN_BEHIND) & ~mine
    pick = u[good][cu[good].argsort(descending=True)][: cfg.solids]
    rgb = _unit_keys(pick)
    slot.solid.zero_()[: rgb.shape[0]] = rgb
    slot.n_solid.fill_(rgb.shape[0])


def _unit_keys(k: torch.Tensor) -> torch.Tensor:
    """int64 [U] colour keys -> float [U, 3] in [0, 1] (the inverse of _keys)."""
    return torch.stack([(k >> 16) & 255, (k >> 8) & 255, k & 255], 1).float() / 255


def _keys(rgb: torch.Tensor) -> torch.Tensor:
    """float [..., 3] in [0, 1] -> int64 [...]: each colour as one integer."""
    return _pack((rgb * 255).round().long())


def _pack(q: torch.Tensor) -> torch.Tensor:
    """int64 [..., 3] in 0..255 -> int64 [...]: (r << 16) | (g << 8) | b."""
    return (q[..., 0] << 16) | (q[..., 1] << 8) | q[..., 2]


def _pose(slot: PoseSlot, frame: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """The dictionary entry drawn exactly at box [N, 2] of frame float [N, 3, H, W], -1 for none."""
    got = slot.colour_index(slot.window(frame, box, slot.cfg.box))  # [N, B, B]
    k = int(slot.n_poses)
    same = (got[:, None] == slot.atlas[None, :k]).flatten(2).all(2)  # [N, K]
    return torch.where(same.any(1), same.float().argmax(1), -1)


def pose_samples(
    slot: PoseSlot, frames: torch.Tensor, actions: torch.Tensor, done: torch.Tensor,
    box: torch.Tensor, gen: torch.Generator,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """For every step whose player is drawn whole before and after, inside the frame: the slot's
    features and what the game drew next. frames uint8 [E, T+1, H, W, 3], actions int64 [E, T],
    done bool [E, T] (the env reset after that step), boxes [E, T+1, 2] -> "pose_x" [M, F] and
    "pose" [M] (the next pose), "move_x" [M, F'] and "dy" [M] (the vertical move + max_dy)."""
    cfg = slot.cfg
    e, t1, h, w, _ = frames.shape
    out: dict[str, list[torch.Tensor]] = {"pose_x": [], "pose": [], "move_x": [], "dy": []}
    nxt_frame = _unit(frames[:, 0])
    now = _pose(slot, nxt_frame, box[:, 0])
    for t in range(t1 - 1):
        frame, nxt_frame = nxt_frame, _unit(frames[:, t + 1])
        nxt = _pose(slot, nxt_frame, box[:, t + 1])
        dy = box[:, t + 1, 1] - box[:, t, 1]  # [E]
        ok = (now >= 0) & (nxt >= 0) & ~done[:, t] & (dy.abs() <= cfg.max_dy)
        ok = ok & _inside(box[:, t + 1], h, w, cfg.box, cfg.margin)
        past = torch.rand(e, generator=gen) >= NO_PAST  # else as a rollout from one frame starts
        one = past & (torch.zeros(e, dtype=torch.bool) if t < 1 else ~done[:, t - 1])
        two = one & (torch.zeros(e, dtype=torch.bool) if t < 2 else ~done[:, t - 2])
        before = torch.where(one[:, None], box[:, t] - box[:, max(t - 1, 0)], 0).float()
        earlier = torch.where(two[:, None], box[:, max(t - 1, 0)] - box[:, max(t - 2, 0)], 0)
        move = (box[:, t + 1] - box[:, t]).float()
        px = slot.features(now.clamp(min=0), actions[:, t], move, before,
                           slot.under(nxt_frame, box[:, t + 1]))  # fmt: skip
        mx = slot.move_features(now.clamp(min=0), actions[:, t], before, earlier.float(),
                                slot.terrain(frame, box[:, t]))  # fmt: skip
        for key, v in (("pose_x", px), ("pose", nxt), ("move_x", mx), ("dy", dy + cfg.max_dy)):
            out[key].append(v[ok])
        now = nxt
    return {k: torch.cat(v) for k, v in out.items()}


def pose_loss(slot: PoseSlot, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy of the next pose plus that of the vertical move (pose_samples' rows) -> scalar."""
    pose = F.cross_entropy(slot.logits(batch["pose_x"]), batch["pose"])
    return pose + F.cross_entropy(slot.move_net(batch["move_x"]), batch["dy"])
