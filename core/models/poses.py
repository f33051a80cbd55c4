"""A pose slot: the player drawn whole, in one of the sprites the game's own frames show, where a
small learnt model of its motion puts it.

    slot = PoseSlot(PoseConfig(n_actions=5))     # fitted by core/models/posefit.py (`gate m4 pose`)
    out = slot.apply(context, action, frame, z)  # context float [N, K, 3, H, W], action int64 [N],
                                                 # frame [N, 3, H, W]: the base model's next frame,
                                                 # z [N, Z]: its noise -> [N, 3, H, W]

FramePredictor holds one when its config sets `poses`; PixelWorldModel applies it after each step.
Why: a block-motion world model moves the player's pixels about right but paints a new pose pixel by
pixel, and the pose (arms up, crouch, facing, the jump's) is what tells actions apart: painted, it came
out speckled, and the player sometimes rose under LEFT or RIGHT (history/m4-m5-model.md, "The pose
slot"). The slot finds the player in the last context frames (the dictionary entry that matches and
its 16x16 box, by the anchor colour's centroid), predicts its vertical move (a classifier over
-max_dy..max_dy from the last pose, the action, the last two moves and the solid colours around it,
sampled at the noise's quantile), keeps the column the base model moved it to (the camera's scroll is
the base model's to decide), predicts the next pose (from the last pose, the action, the move and the
two rows under the new box), erases the base model's player and draws the entry there. Where no player
is found in the last frame, or the box would leave the frame, the frame is left as the base model made
it. No IO.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from core.models.layers import row_fill

TOL = 24 / 255  # colour match, L-infinity: half the smallest gap between the game's colours
MIN_ANCHOR = 6  # fewer anchor pixels is debris, not a player
NEAR = (-1, 0, 1)  # px tried around a box guessed from the anchor's centroid
MIN_P = 0.1  # a vertical move less likely than this is not drawn (nor are tails of the classifier)
FILL = 8  # px beside the redrawn area the colours that fill it may come from


def bounds(
    h: int, w: int, size: int, margin: int = 0, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The least and the greatest top-left (x, y), int64 [2] each, of a size x size box inside an
    H x W frame with `margin` rows free above and below it."""
    lo = torch.tensor([0, margin], device=device)
    return lo, torch.tensor([w - size, h - size - margin], device=device)


@dataclass(frozen=True)
class PoseConfig:
    n_actions: int = 5  # the platformer's five
    poses: int = 16  # dictionary slots: the platformer draws 12 player frames
    colours: int = 8  # the player's colours: the platformer's sprite has 5
    box: int = 16  # the drawn sprite's square box, px (the platformer's)
    margin: int = 3  # px around the box where the base model's player pixels are redrawn
    hidden: int = 64  # poses x facings x moves: a few dozen cases
    max_dy: int = 8  # vertical moves -8..8 px: the game's fastest fall (8) and jump (7) per frame
    above: int = 8  # terrain rows read above the box (the ceiling a jump bumps into)
    below: int = 9  # ... under it (the ground a fall of max_dy lands on)
    side: int = 4  # ... and columns on each side of it (where a step is going)
    solids: int = 8  # colours the player stands on (the platformer's ground uses a handful)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> PoseConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    @property
    def n_features(self) -> int:
        return self.poses + self.n_actions + 4 + 2 * self.box * 3  # pose, action, 2 moves, 2 rows

    @property
    def terrain_shape(self) -> tuple[int, int]:
        return self.above + self.box + self.below, self.box + 2 * self.side

    @property
    def n_move_features(self) -> int:
        r, c = self.terrain_shape
        return self.poses + self.n_actions + 4 + r * c  # pose, action, 2 moves before, solid map


class PoseSlot(nn.Module):
    def __init__(self, cfg: PoseConfig = PoseConfig()) -> None:  # noqa: B008 - frozen
        super().__init__()
        self.cfg = cfg
        k, c, b = cfg.poses, cfg.colours, cfg.box
        self.register_buffer("colours", torch.zeros(c, 3))  # the player's colours in [0, 1]
        self.register_buffer("n_colours", torch.zeros((), dtype=torch.int64))
        self.register_buffer("atlas", torch.full((k, b, b), -1, dtype=torch.int64))  # -1: clear
        self.register_buffer("n_poses", torch.zeros((), dtype=torch.int64))
        self.register_buffer(
            "anchor", torch.zeros((), dtype=torch.int64)
        )  # the colour it is found by
        self.register_buffer(
            "anchor_off", torch.zeros(k, 2)
        )  # its centroid in each pose's box (x, y)
        self.register_buffer("solid", torch.zeros(cfg.solids, 3))  # colours the player stands on
        self.register_buffer("n_solid", torch.zeros((), dtype=torch.int64))
        self.net = nn.Sequential(
            nn.Linear(cfg.n_features, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, k)
        )
        self.move_net = nn.Sequential(  # the player's vertical move, in whole px
            nn.Linear(cfg.n_move_features, cfg.hidden), nn.GELU(),
            nn.Linear(cfg.hidden, 2 * cfg.max_dy + 1),
        )  # fmt: skip

    # -- reading the player off pixels ---------------------------------------------------------------
    def colour_index(self, img: torch.Tensor) -> torch.Tensor:
        """img float [N, 3, ...] -> int64 [N, ...]: the player colour each pixel is, -1 for none."""
        c = int(self.n_colours)
        d = (img.unsqueeze(1) - self.colours[:c].view(1, c, 3, *[1] * (img.dim() - 2))).abs()
        hit = d.amax(2) <= TOL  # [N, C, ...]
        return torch.where(hit.any(1), hit.float().argmax(1), -1)

    def anchor_xy(self, img: torch.Tensor) -> torch.Tensor:
        """img float [N, 3, H, W] -> float [N, 2]: the anchor colour's centroid (pixel centres at
        +0.5), NaN where fewer than MIN_ANCHOR of its pixels show."""
        ref = self.colours[self.anchor].view(1, 3, 1, 1)
        m = ((img - ref).abs().amax(1) <= TOL).float()  # [N, H, W]
        h, w = m.shape[-2:]
        cnt = m.sum((1, 2))  # [N]
        xs = (m.sum(1) * (torch.arange(w, device=img.device) + 0.5)).sum(1)  # [N]
        ys = (m.sum(2) * (torch.arange(h, device=img.device) + 0.5)).sum(1)
        xy = torch.stack([xs, ys], 1) / cnt.clamp(min=1)[:, None]  # [N, 2]
        return torch.where((cnt >= MIN_ANCHOR)[:, None], xy, float("nan"))

    def crops(self, idx: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
        """colour indices int64 [N, H, W], box top-lefts int64 [N, M, 2] -> [N, M, B, B] (-2 off the
        frame)."""
        n, h, w = idx.shape
        r = torch.arange(self.cfg.box, device=idx.device)
        ys = box[..., 1, None] + r  # [N, M, B]
        xs = box[..., 0, None] + r
        inside = ((ys >= 0) & (ys < h))[..., :, None] & ((xs >= 0) & (xs < w))[..., None, :]
        flat = ys.clamp(0, h - 1)[..., :, None] * w + xs.clamp(0, w - 1)[..., None, :]  # [N,M,B,B]
        got = idx.view(n, 1, -1).expand(n, flat.shape[1], -1).gather(2, flat.flatten(2))
        return torch.where(inside, got.view_as(flat), -2)

    def locate(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """img float [N, 3, H, W] (a frame whose player is drawn whole) -> its pose int64 [N], box
        top-left int64 [N, 2] and bool [N] found: the entry and place that match most pixels. Only
        the patch the candidate boxes cover is read (a whole frame's colours cost 30x more)."""
        n, _, h, w = img.shape
        k, size = int(self.n_poses), self.cfg.box
        c = self.anchor_xy(img)  # [N, 2]
        found = ~c[:, 0].isnan()
        near = torch.tensor([(dx, dy) for dy in NEAR for dx in NEAR], device=img.device)  # [9, 2]
        guess = (torch.nan_to_num(c)[:, None] - self.anchor_off[None, :k]).round().long()  # [N,K,2]
        box = (guess[:, :, None] + near).flatten(1, 2)  # [N, K*9, 2]
        origin = box.amin(1)  # [N, 2]
        span = size + int((box.amax(1) - origin).max())
        rgb, inside = self.patch(img, origin, span, span)  # [N, 3, S, S], [N, S, S]
        idx = torch.where(inside, self.colour_index(rgb), -2)  # [N, S, S]
        got = self.crops(idx, box - origin[:, None])  # [N, K*9, B, B]
        atlas = self.atlas[:k].repeat_interleave(len(NEAR) ** 2, 0)  # [K*9, B, B]
        score = (got == atlas).sum((2, 3))  # [N, K*9]
        best = score.argmax(1)  # [N]
        return best // len(NEAR) ** 2, box[torch.arange(n), best], found

    # -- the next pose ------------------------------------------------------------------------------
    def features(
        self, pose: torch.Tensor, action: torch.Tensor, move: torch.Tensor, before: torch.Tensor,
        under: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        """pose, action int64 [N], the box's move this step and the step before float [N, 2] (px),
        the two rows under the new box float [N, 3, 2, B] -> float [N, F]."""
        cfg = self.cfg
        return torch.cat([
            nn.functional.one_hot(pose, cfg.poses).float(),
            nn.functional.one_hot(action, cfg.n_actions).float(),
            move / 4, before / 4,  # moves are a few px a frame
            under.flatten(1) * 2 - 1,
        ], 1)  # fmt: skip

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """features [N, F] -> [N, K], the unused slots never chosen."""
        y = self.net(x)  # [N, K]
        unused = torch.arange(self.cfg.poses, device=x.device) >= self.n_poses
        return y.masked_fill(unused, float("-inf"))

    def terrain(self, img: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
        """img [N, 3, H, W], box top-lefts [N, 2] -> float [N, R*C]: 1 where a solid colour shows
        in the window around the box (terrain_shape; off the frame: 0, a pit or open sky)."""
        cfg, s = self.cfg, int(self.n_solid)
        rows, cols = cfg.terrain_shape
        at = box - torch.tensor([cfg.side, cfg.above], device=box.device)
        rgb, inside = self.patch(img, at, rows, cols)  # [N, 3, R, C], [N, R, C]
        d = (rgb.unsqueeze(1) - self.solid[:s].view(1, s, 3, 1, 1)).abs().amax(2)  # [N, S, R, C]
        return ((d <= TOL).any(1) & inside).float().flatten(1)

    def move_features(
        self, pose: torch.Tensor, action: torch.Tensor, before: torch.Tensor, earlier: torch.Tensor,
        terrain: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        """pose, action int64 [N], the box's last two moves float [N, 2] (px), terrain [N, R*C] ->
        float [N, F]."""
        cfg = self.cfg
        return torch.cat([
            nn.functional.one_hot(pose, cfg.poses).float(),
            nn.functional.one_hot(action, cfg.n_actions).float(),
            before / 4, earlier / 4, terrain * 2 - 1,
        ], 1)  # fmt: skip

    def patch(
        self, img: torch.Tensor, origin: torch.Tensor, rows: int, cols: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """img [N, 3, H, W], top-lefts int64 [N, 2] -> float [N, 3, rows, cols] (edge-clamped) and
        bool [N, rows, cols]: inside the frame."""
        n, _, h, w = img.shape
        ys = origin[:, 1, None] + torch.arange(rows, device=img.device)  # [N, rows]
        xs = origin[:, 0, None] + torch.arange(cols, device=img.device)  # [N, cols]
        inside = ((ys >= 0) & (ys < h))[:, :, None] & ((xs >= 0) & (xs < w))[:, None, :]
        flat = (ys.clamp(0, h - 1)[:, :, None] * w + xs.clamp(0, w - 1)[:, None, :]).flatten(1)
        got = img.flatten(2).gather(2, flat[:, None].expand(n, 3, -1))  # [N, 3, rows*cols]
        return got.view(n, 3, rows, cols), inside

    def window(
        self, img: torch.Tensor, box: torch.Tensor, rows: int, down: int = 0
    ) -> torch.Tensor:
        """img [N, 3, H, W], box top-lefts int64 [N, 2] -> float [N, 3, rows, B]: the box's columns,
        `rows` rows from `down` rows below its top (edge-clamped)."""
        at = box + torch.tensor([0, down], device=box.device)
        return self.patch(img, at, rows, self.cfg.box)[0]

    def under(self, img: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
        """The two rows under each box [N, 2] of img [N, 3, H, W] -> float [N, 3, 2, B]."""
        return self.window(img, box, 2, self.cfg.box)

    @torch.no_grad()
    def apply(
        self, context: torch.Tensor, action: torch.Tensor, frame: torch.Tensor,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:  # fmt: skip
        """The next frame `frame` [N, 3, H, W] with the player redrawn: at the column the base model
        moved it to, the height the slot's move predicts, in the pose it predicts next (see the
        module's docstring). noise [N, Z] (the step's, its last column read) samples the move among
        those of probability >= MIN_P; None takes the likeliest."""
        n, _, h, w = frame.shape
        cfg = self.cfg
        b, m = cfg.box, cfg.margin
        k = context.shape[1]
        pose, box, ok = self.locate(context[:, -1])
        box1, ok1 = self.locate(context[:, max(0, k - 2)])[1:]
        box2, ok2 = self.locate(context[:, max(0, k - 3)])[1:]
        before = torch.where(ok1[:, None], box - box1, 0).float()  # [N, 2]
        earlier = torch.where((ok1 & ok2)[:, None], box1 - box2, 0).float()
        x = self.move_features(pose, action, before, earlier, self.terrain(context[:, -1], box))
        dy = self.choose(self.move_net(x), noise) - cfg.max_dy  # [N]
        c = self.anchor_xy(frame)  # [N, 2]: where the base model put it
        seen = ~c[:, 0].isnan()
        trunk = (torch.nan_to_num(c) - self.anchor_off[pose]).round().long()  # [N, 2]
        new = torch.stack([torch.where(seen, trunk[:, 0], box[:, 0]), box[:, 1] + dy], 1)
        lo, hi = bounds(h, w, b, m, frame.device)
        ok = ok & ((new >= lo) & (new <= hi)).all(1)
        clean = torch.where(seen[:, None, None, None], self.erase(frame, trunk), frame)
        under = self.under(clean, new)
        nxt = self.logits(self.features(pose, action, (new - box).float(), before, under)).argmax(1)
        drawn = self.paste(clean, torch.maximum(torch.minimum(new, hi), lo), nxt)
        return torch.where(ok[:, None, None, None], drawn, frame)

    @staticmethod
    def choose(logits: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        """[N, M] -> int64 [N]: the argmax, or with noise [N, Z] the move at the quantile
        Phi(noise[:, -1]) of the distribution kept to moves of probability >= MIN_P. Whole-pixel
        moves of a sub-pixel speed alternate (2, 3, 2, ...): the argmax would always take one and
        fall slower or faster than the game."""
        if noise is None:
            return logits.argmax(1)
        p = logits.softmax(1)
        p = torch.where(p >= MIN_P, p, 0)
        cdf = (p / p.sum(1, keepdim=True)).cumsum(1)  # [N, M]
        u = 0.5 * (1 + torch.erf(noise[:, -1:].float() / 2**0.5))  # [N, 1] uniform
        return (cdf < u).sum(1).clamp(max=logits.shape[1] - 1)

    def _put(self, frame: torch.Tensor, origin: torch.Tensor, band: torch.Tensor) -> torch.Tensor:
        """frame [N, 3, H, W] with band [N, 3, R, C] written at top-lefts origin [N, 2] (inside)."""
        n, _, h, w = frame.shape
        ys = origin[:, 1, None] + torch.arange(band.shape[2], device=frame.device)  # [N, R]
        xs = origin[:, 0, None] + torch.arange(band.shape[3], device=frame.device)  # [N, C]
        flat = (ys[:, :, None] * w + xs[:, None, :]).flatten(1)  # [N, R*C]
        out = frame.flatten(2).scatter(2, flat[:, None].expand(n, 3, -1), band.flatten(2))
        return out.view_as(frame)

    def erase(self, frame: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
        """frame [N, 3, H, W] without the player colours within `margin` of box [N, 2]: each filled
        from beside it in its row (core.models.layers.row_fill), within FILL px."""
        n, _, h, w = frame.shape
        b, m = self.cfg.box, self.cfg.margin
        rows, cols = min(h, b + 2 * m), min(w, b + 2 * (m + FILL))
        x0 = (box[:, 0] - m - FILL).clamp(0, w - cols)  # [N]: the patch stays inside the frame
        y0 = (box[:, 1] - m).clamp(0, h - rows)
        origin = torch.stack([x0, y0], 1)  # [N, 2]
        band, _ = self.patch(frame, origin, rows, cols)  # [N, 3, R, C]
        fg = self.colour_index(band) >= 0  # [N, R, C]
        col = x0[:, None] + torch.arange(cols, device=frame.device)  # [N, C]: frame columns
        near = (col >= box[:, :1] - m) & (col < box[:, :1] + b + m)  # [N, C]
        band = torch.where((fg & near[:, None])[:, None], row_fill(band, ~fg), band)
        return self._put(frame, origin, band)

    def paste(self, frame: torch.Tensor, box: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        """frame [N, 3, H, W] with entry `pose` [N] drawn at box [N, 2] (inside the frame)."""
        b = self.cfg.box
        band, _ = self.patch(frame, box, b, b)  # [N, 3, B, B]
        sprite = self.atlas[pose]  # [N, B, B]
        paint = self.colours[sprite.clamp(min=0)].permute(0, 3, 1, 2)  # [N, 3, B, B]
        return self._put(frame, box, torch.where((sprite >= 0)[:, None], paint, band))
