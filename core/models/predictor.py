"""m2's next-frame predictor: moves the last frame's pixels, given the action and a noise sample.

    net = FramePredictor(PredictorConfig(n_actions=5))
    y = net(ctx, action, z)   # ctx float [N, K, 3, H, W] in [0, 1] (oldest first), action int64 [N],
                              # z float [N, noise_dim] -> float [N, 3, H, W]: the last frame, moved

A small U-Net on a space-to-depth grid of 8x8 cells decides (why: history/m1-m2-models.md):
- one whole-frame horizontal shift, hard (the camera: it cannot half-scroll);
- per cell, a soft choice of a vertical and a horizontal whole-pixel shift of that frame (sprites move
  by whole pixels; a sharp choice keeps them sharp and in palette) and a gate alpha for how much of the
  moved frame to take;
- per cell, a residual for what no shift explains (newly revealed columns, poses).
The head starts at zero and the camera at "no shift", so an untrained predictor is exactly
copy-last-frame. Stochastic futures come from z, trained with a best-of-K loss (core/models/bestofk.py): a
plain MSE would teach the network to ignore z.

`hard=True` is m4's block motion (core/models/blockmotion.py trains it): each cell moves whole by one
chosen shift, per pixel a keep head leaves the background a sprite moves over in place, and a paint
head marks the pixels no copy explains, drawn from the game's palette (`palette` colours). How shifts
are chosen at inference is the sampler: `objects` (one shift per moving object) and `min_p`.
`pixel_head` refines the paint and keep choices per pixel from the moved frame itself, and
`motion_in` feeds the moves the context already shows (core/models/motion.py: `past_motion`).
`layers` replaces the keep head by two layers: per pixel of the last frame, whether it is a sprite's
(it moves with its cell) or background, so that a cell carries only its sprite pixels whatever shift
is drawn (a keep choice made per destination pixel holds for one shift only); where a sprite leaves,
the background beside it in its row shows (`row_fill`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.models.autoencoder import ResBlock
from core.models.cells import cell_coords, sample_shifts, shift_cells
from core.models.layers import resolve, row_fill
from core.models.motion import past_motion, shift_global
from core.models.painter import Painter, near_sprites
from core.models.palette import PaletteOps
from core.models.poses import PoseConfig, PoseSlot
from core.models.shiftmix import shift_mix


@dataclass(frozen=True)
class PredictorConfig:
    n_actions: int = 5  # the platformer's five; Pong has six (set from the data)
    context: int = 3  # frames in, oldest first: the milestone's "3 frames -> the 4th"
    cell: int = 8  # space-to-depth: one shift decision per 8x8 cell (half a sprite), 32x32 cells
    width1: int = 48  # channels at H/8: cheap where the grid is big
    width2: int = 96  # at H/16
    width3: int = 128  # at H/32: where the action, the noise and the global context come in
    noise_dim: int = 8  # z ~ N(0, I): enough to index a few distinct futures per context
    max_dx: int = 5  # horizontal shifts -5..5 px: the camera's 4-px step plus an enemy's 1 px
    max_dy: int = 8  # vertical shifts -8..8 px: the fastest jump (7 px) and fall (8 px) per frame
    keypoints: int = 0  # only 0 (measured worse, removed); kept so that old configs still load
    max_global: int = 5  # whole-frame horizontal shifts -5..5 px, chosen hard: the camera's step
    hard: bool = False  # per-cell shifts chosen whole, no gate: m4's block motion
    # (core/models/blockmotion.py); False is m2's soft mixture
    palette: int = 0  # hard mode: > 0 draws new pixels from this many colours (the game's palette,
    # set from data), each the colour nearest the predicted RGB: crisp, never a blur; 0: the RGB
    objects: bool = False  # hard mode: cells that move (p(no shift) < 1/2) and touch form an
    # object, and an object takes one shift, the best for all its cells together: never torn
    pixel_head: int = 0  # hard mode: channels of a 3x3 conv per pixel that sees the moved frame
    # beside the last one and refines the paint, keep and colour choices (a cell's 8x8 logits from
    # its features alone cannot tell the ground a rising sprite's cell drags up from the sprite)
    motion_in: bool = False  # hand the network the moves its context shows (the camera's and each
    # cell's searched shift, core.models.motion.past_motion): next = last move + what changes it
    layers: bool = False  # hard mode: moving things are a layer over a still background. Per pixel
    # of the last frame, whether it moves with its cell (a sprite's pixel): a cell's shift carries
    # only its sprite pixels, whatever shift is drawn, so the ground beside a sprite never travels
    # with it; the sky it leaves is filled from beside it (row_fill)
    pool: bool = False  # hard mode, objects: an object draws from its cells' mean distribution
    # (weighted by how sure each is that it moves) instead of its surest mover's
    contact: bool = False  # layers: a move that would carry sprite pixels onto a solid colour
    # (`solid`, read off the data: core/models/layers.py) stops at its face, as the game's collision
    # does; a cell 8 px coarse cannot see the last pixel before the ground
    painter: int = 0  # layers: hidden width of the painter (core/models/painter.py), an MLP per
    # cell near a sprite over the moved frame's 24x24 window: new poses painted to the pixel; 0: off
    poses: int = 0  # dictionary slots of a pose slot (core/models/poses.py) that redraws the player
    # whole over each predicted frame at inference (PixelWorldModel); 0: off
    min_p: int = 0  # hard mode's choice, in %: 0 takes each cell's most likely shift; p > 0 samples
    # among the shifts of probability >= p %, every cell at the same quantile of its own distribution
    # (one uniform per frame, from the noise): one sprite's cells agree, and the shifts are unbiased

    def to_dict(self) -> dict[str, int | bool]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, int | bool]) -> PredictorConfig:
        return cls(**d)

    @property
    def multiple(self) -> int:
        """H and W must be multiples of this (the gates pad)."""
        return self.cell * 4


class FramePredictor(PaletteOps, nn.Module):
    def __init__(self, cfg: PredictorConfig = PredictorConfig()) -> None:  # noqa: B008 - frozen
        super().__init__()
        self.cfg = cfg
        c_in = 3 * cfg.context * cfg.cell * cfg.cell
        w1, w2, w3 = cfg.width1, cfg.width2, cfg.width3
        if cfg.keypoints:
            raise ValueError("keypoints: only 0 is supported (they were measured worse, removed)")
        cond = cfg.n_actions + cfg.noise_dim
        self.stem = nn.Conv2d(c_in, w1, 1)
        if cfg.motion_in:  # zero at first: a start from weights without it behaves as they did
            per_pair = 2 * (cfg.max_global + cfg.max_dy + cfg.max_dx) + 3  # G + DY + DX one-hots
            self.motion_stem = nn.Conv2d((cfg.context - 1) * per_pair, w1, 1)
            nn.init.zeros_(self.motion_stem.weight)
            nn.init.zeros_(self.motion_stem.bias)
        self.e1 = ResBlock(w1)
        self.down1 = nn.Conv2d(w1, w2, 4, stride=2, padding=1)
        self.cond2 = nn.Linear(cond, w2)
        self.e2 = ResBlock(w2)
        self.down2 = nn.Conv2d(w2, w3, 4, stride=2, padding=1)
        self.cond3 = nn.Linear(cond, w3)
        self.glob = nn.Linear(w3, w3)
        self.coords = nn.Conv2d(2, w3, 1)  # where a cell is: the camera's dead zone is a place
        self.m1 = ResBlock(w3)
        self.m2 = ResBlock(w3)
        self.up2 = nn.Conv2d(w3, w2 * 4, 1)  # then pixel_shuffle(2)
        self.d2 = ResBlock(w2)
        self.up1 = nn.Conv2d(w2, w1 * 4, 1)
        self.d1 = ResBlock(w1)
        self.n_g = 2 * cfg.max_global + 1
        self.glob_head = nn.Linear(2 * w3, self.n_g)  # the camera: one decision for the frame
        nn.init.zeros_(self.glob_head.weight)
        with torch.no_grad():  # untrained: "no shift" wins the argmax (copy-last-frame)
            self.glob_head.bias.copy_(torch.eye(self.n_g)[cfg.max_global])
        self.gcond = nn.Linear(self.n_g, w2)  # the decision, told to the upsampling path
        self.n_dx, self.n_dy = 2 * cfg.max_dx + 1, 2 * cfg.max_dy + 1
        self.n_res = 3 * cfg.cell * cfg.cell
        self.head = nn.Conv2d(w1, self.n_res + self.n_dx + self.n_dy + 1, 1)
        nn.init.zeros_(self.head.weight)  # an untrained predictor is exactly copy-last-frame ...
        nn.init.zeros_(self.head.bias)
        if cfg.hard:  # per pixel: the logit of "this pixel is new" (a pose, an edge): the rest copy
            self.paint_head = nn.Conv2d(w1, cfg.cell * cfg.cell, 1)
            nn.init.zeros_(self.paint_head.weight)
            nn.init.constant_(self.paint_head.bias, -4.0)  # untrained: nothing new, copy-last
            self.keep_head = nn.Conv2d(w1, cfg.cell * cfg.cell, 1)  # per pixel: "stays put" (the
            # background a sprite's cell moves over keeps its place: a cell holds two motions)
            nn.init.zeros_(self.keep_head.weight)
            nn.init.constant_(self.keep_head.bias, -4.0)
        if cfg.hard and cfg.pixel_head:  # zero at first: the cells' own logits, as without it
            ph = cfg.pixel_head
            self.pix_feat = nn.Conv2d(w1, ph, 1)  # a cell's features, told to each of its pixels
            self.pix_conv = nn.Conv2d(ph + 6, ph, 3, padding=1)  # + the moved and the last frame
            self.pix_out = nn.Conv2d(ph, 5, 1)  # paint, keep, RGB: added to the cells' own
            nn.init.zeros_(self.pix_out.weight)
            nn.init.zeros_(self.pix_out.bias)
        if cfg.hard and cfg.layers:  # untrained: no pixel moves
            self.fg_head = nn.Conv2d(w1, cfg.cell * cfg.cell, 1)  # from its cell's features ...
            nn.init.zeros_(self.fg_head.weight)
            nn.init.constant_(self.fg_head.bias, -1.0)  # most pixels are background
            self.fg_pix = nn.Sequential(nn.Conv2d(3, 16, 1), nn.GELU(), nn.Conv2d(16, 1, 1))  # ...
            nn.init.zeros_(self.fg_pix[2].weight)  # and its own colour (sprites have their own)
        if cfg.hard and cfg.painter:
            self.painter = Painter(w1, cfg.n_actions, cfg.cell, cfg.painter)
        if cfg.poses:  # fitted apart (`gate m4 pose`), used by PixelWorldModel only
            self.pose = PoseSlot(PoseConfig(n_actions=cfg.n_actions, poses=cfg.poses))
        if cfg.palette:  # the colours new pixels are drawn from (a buffer: set from data, saved)
            self.register_buffer("colours", torch.zeros(cfg.palette, 3))
            self.log_beta = nn.Parameter(torch.tensor(5.3))  # e^5.3 = 200 per unit^2: a 0.1 RGB
            # gap (the palette's closest pair is ~0.1) is worth 2 nats between two colours
        if cfg.palette and cfg.contact:  # per colour, 1 if solid, 1 if moving things show it (set
            self.register_buffer("solid", torch.zeros(cfg.palette))  # from data, saved)
            self.register_buffer("shown", torch.ones(cfg.palette))
        with torch.no_grad():  # ... and its first shifts favour "no motion" (softmax 0.8 at 0)
            self.head.bias[self.n_res + cfg.max_dx] = 4.0
            self.head.bias[self.n_res + self.n_dx + cfg.max_dy] = 4.0

    def compose(
        self,
        base: torch.Tensor,
        res: torch.Tensor,
        cells: tuple[torch.Tensor, ...],
        layer: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Hard mode's frame from the camera-moved last frame base [N, 3, H, W], the residual res
        [N, 3, H, W] and the choices (iy, ix, painted, kept) of decode's `cells` -> (frame, the RGB
        painted pixels are drawn from), both [N, 3, H, W]. With `layers`, layer = (which pixels of
        base are sprite bool [N, H, W], the RGB behind them [N, 3, H, W], its solid pixels bool
        [N, H, W] with `contact`, else None) replaces `kept`: a pixel shows the sprite pixel its
        cell's shift brings, else the background (behind a sprite that left, the row's background
        beside it)."""
        cfg = self.cfg
        iy, ix, where, still = cells  # [N, h, w], [N, h, w], bool [N, H, W] x 2
        if layer is None:
            moved = shift_cells(base, iy - cfg.max_dy, ix - cfg.max_dx, cfg.cell)  # [N, 3, H, W]
            moved = torch.where(still[:, None], base, moved)  # [N, 3, H, W]
        else:
            moved = self.layered(base, layer[0], layer[1], iy, ix, layer[2])  # [N, 3, H, W]
        rgb = moved + res  # [N, 3, H, W]: what new pixels should look like
        return torch.where(where[:, None], self.snap(rgb, where), moved), rgb

    def layered(
        self,
        base: torch.Tensor,
        fg: torch.Tensor,
        behind: torch.Tensor,
        iy: torch.Tensor,
        ix: torch.Tensor,
        wall: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`layers`' move: each pixel of base [N, 3, H, W] that is sprite (fg bool [N, H, W]) moves
        by its destination cell's shift (iy, ix) [N, h, w]; where none lands, the background: the
        pixel itself, or behind [N, 3, H, W] where a sprite left -> [N, 3, H, W]. With `contact`, no
        sprite pixel covers a solid one (wall bool [N, H, W]): what a stopped move still carries
        there (a stray speck, a thin leg the collision test lets pass) is not drawn."""
        cfg = self.cfg
        both = torch.cat([base, fg[:, None].to(base.dtype)], 1)  # [N, 4, H, W]
        both = shift_cells(both, iy - cfg.max_dy, ix - cfg.max_dx, cfg.cell)  # [N, 4, H, W]
        land = both[:, 3] > 0.5  # [N, H, W]: a sprite pixel lands here
        if wall is not None:
            land &= ~wall
        left = fg & ~land  # [N, H, W]: a sprite left, none came: what was behind it shows
        back = torch.where(left[:, None], behind, base)  # [N, 3, H, W]
        return torch.where(land[:, None], both[:, :3], back)

    def layer_heads(
        self,
        feat: torch.Tensor,
        base: torch.Tensor,
        wall: torch.Tensor | None = None,
        pal: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`layers`: decoder features [N, w1, h, w] and the camera-moved last frame base [N, 3, H, W]
        (and with `contact`, its solid pixels wall bool [N, H, W]; pal its palette_index, when
        computed) -> (per pixel of base, the logit that it is a sprite's [N, H, W]; the RGB behind
        it [N, 3, H, W]: the nearest background pixel's of its row, see row_fill)."""
        c = self.cfg.cell
        fg = F.pixel_shuffle(self.fg_head(feat), c) + self.colour_fg(base, pal)  # [N, 1, H, W]
        fg, bg = fg[:, 0], fg[:, 0] <= 0  # [N, H, W] x 2
        if wall is not None:  # a solid colour is never a sprite's (a sprite's colours move), nor
            fg, bg = fg.masked_fill(wall, -20.0), bg & ~wall  # what is behind one (finite:
            # a loss may still read the logit)
        return fg, row_fill(base, bg)

    def cell_heads(
        self, feat: torch.Tensor, out: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Hard mode's per-pixel choices as the cells' own 1x1 heads make them, from the decoder's
        features feat [N, w1, h, w] (and self.head(feat) when already computed) -> (paint logits
        [N, H, W], keep logits [N, H, W], the residual RGB [N, 3, H, W])."""
        c = self.cfg.cell
        out = self.head(feat) if out is None else out  # [N, R + DX + DY + 1, h, w]
        res = F.pixel_shuffle(out[:, : self.n_res], c)  # [N, 3, H, W]
        paint = F.pixel_shuffle(self.paint_head(feat), c)[:, 0]  # [N, H, W]
        keep = F.pixel_shuffle(self.keep_head(feat), c)[:, 0]  # [N, H, W]
        return paint, keep, res

    def pixel_heads(
        self,
        feat: torch.Tensor,
        base: torch.Tensor,
        iy: torch.Tensor,
        ix: torch.Tensor,
        out: torch.Tensor | None = None,
        action: torch.Tensor | None = None,
        fg: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """cell_heads' choices once the shifts (iy, ix) [N, h, w] are chosen, refined from the
        camera-moved last frame base [N, 3, H, W] by the pixel head and the painter (which also
        reads the action int64 [N] and paints near the sprite pixels fg bool [N, H, W] of base)."""
        cfg, c = self.cfg, self.cfg.cell
        paint, keep, res = self.cell_heads(feat, out)  # [N, H, W] x 2, [N, 3, H, W]
        if not (cfg.pixel_head or cfg.painter):
            return paint, keep, res
        moved = shift_cells(base, iy - cfg.max_dy, ix - cfg.max_dx, c)  # [N, 3, H, W]
        if cfg.painter:
            if action is None or fg is None:
                raise ValueError("painter: pixel_heads needs the action and the sprite pixels")
            near = near_sprites(fg, c)  # [N, h, w]
            dp, dr = self.painter(feat, moved, action, near)  # [N, H, W], [N, 3, H, W]
            paint, res = paint + dp, res + dr
        if not cfg.pixel_head:
            return paint, keep, res
        f = F.interpolate(self.pix_feat(feat), scale_factor=c, mode="nearest")  # [N, ph, H, W]
        x = torch.cat([f, moved * 2 - 1, base * 2 - 1], 1)  # [N, ph + 6, H, W]
        d = self.pix_out(F.gelu(self.pix_conv(x)))  # [N, 5, H, W]
        return paint + d[:, 0], keep + d[:, 1], res + d[:, 2:]

    def stem_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The stem (last frame x 2 - 1 and the K-1 differences, space-to-depth) folded into a c x c
        stride-c conv over the K frames as given: [w1, 3K, c, c], [w1]. No copy of frames or grid."""
        k, c = self.cfg.context, self.cfg.cell
        w = self.stem.weight.view(self.stem.out_channels, k, 3, c, c)  # [w1, K, 3, c, c]
        last, diff = w[:, :1], w[:, 1:]  # the last frame's, frame i+1 - frame i's
        zero = torch.zeros_like(last)  # frame j: + diff j-1, - diff j
        per = torch.cat([zero, diff], 1) - torch.cat([diff, zero], 1)  # [w1, K, 3, c, c]
        per = torch.cat([per[:, :-1], per[:, -1:] + 2 * last], 1).flatten(1, 2)
        return per, self.stem.bias - last.sum((1, 2, 3, 4))  # the bias takes the "- 1"

    def forward(self, ctx: torch.Tensor, action: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The last frame shifted whole by the camera decision (hard), then moved by per-cell shifts
        (a soft choice among whole-pixel shifts, gated by a per-cell alpha that starts at 0), plus a
        residual: float [N, 3, H, W]."""
        return self.decode(self.encode(ctx), action, z)[0]

    def encode(self, ctx: torch.Tensor) -> dict[str, torch.Tensor]:
        """What does not depend on the action or the noise (computed once for K samples)."""
        cfg = self.cfg
        w, b = self.stem_weights()  # [w1, 3K, c, c], [w1]
        h1 = F.conv2d(ctx.flatten(1, 2), w, b, stride=cfg.cell)  # [N, w1, H/c, W/c]
        if cfg.motion_in:
            moves = past_motion(ctx, cfg.cell, cfg.max_dy, cfg.max_dx, cfg.max_global)
            h1 = h1 + self.motion_stem(moves)  # [N, w1, H/c, W/c]
        return {"last": ctx[:, -1], "h1": self.e1(h1)}

    def decode(
        self,
        enc: dict[str, torch.Tensor],
        action: torch.Tensor,
        z: torch.Tensor,
        shift: torch.Tensor | None = None,
        aux: dict[str, torch.Tensor] | None = None,
        cells: tuple[torch.Tensor, ...] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (frame [N, 3, H, W], camera logits [N, G]). shift int64 [N] in 0..G-1 forces the camera
        decision (training: the shift that best explains the target); None takes the argmax. aux, when
        given, receives the per-cell shift distributions "px" and "py" (a loss may shape them), or in
        hard mode their logits "xlog" and "ylog", the per-pixel paint and keep logits "paint" and
        "keep", the residual "res", the RGB "rgb" that painted pixels are drawn from and the decoder's
        features "feat" (for pixel_heads). cells (hard mode) forces choices instead of the model's own
        (training: the searched ones): the per-cell shift indices (iy, ix) int64 [N, H/c, W/c], and
        optionally which pixels are painted and which stay put (the camera's move only), bool
        [N, H, W] each. Pixels not painted are exact copies: no residual haze builds up."""
        cfg = self.cfg
        last, h1 = enc["last"], enc["h1"]  # [N, 3, H, W], [N, w1, H/c, W/c]
        cond = torch.cat([F.one_hot(action, cfg.n_actions).to(z.dtype), z], 1)
        h2 = self.down1(F.gelu(h1)) + self.cond2(cond)[:, :, None, None]  # [N, w2, H/2c, W/2c]
        h2 = self.e2(h2)
        h3 = self.down2(F.gelu(h2)) + self.cond3(cond)[:, :, None, None]  # [N, w3, H/4c, W/4c]
        h3 = h3 + self.glob(h3.mean((2, 3)))[:, :, None, None]  # the whole frame's context
        h3 = h3 + self.coords(cell_coords(h3))  # [N, w3, H/4c, W/4c]
        h3 = self.m2(self.m1(h3))
        glog = self.glob_head(torch.cat([h3.mean((2, 3)), h3.amax((2, 3))], 1))  # [N, G]
        g = glog.argmax(1) if shift is None else shift  # [N]
        gone = F.one_hot(g, self.n_g).to(h3.dtype)  # [N, G]
        u2 = F.pixel_shuffle(self.up2(F.gelu(h3)), 2) + h2 + self.gcond(gone)[:, :, None, None]
        u2 = self.d2(u2)
        u1 = F.pixel_shuffle(self.up1(F.gelu(u2)), 2) + h1  # [N, w1, H/c, W/c]
        feat = F.gelu(self.d1(u1))  # [N, w1, H/c, W/c]
        out = self.head(feat)  # [N, R + DX + DY + 1, H/c, W/c]
        rest = out[:, self.n_res :]  # [N, DX + DY + 1, H/c, W/c]
        base = shift_global(last, g - cfg.max_global)  # [N, 3, H, W]: the camera's move, exact
        if cfg.hard:
            xlog, ylog = rest[:, : self.n_dx], rest[:, self.n_dx : self.n_dx + self.n_dy]
            pal = self.palette_index(base) if cfg.palette and cfg.layers else None  # once
            wall = self.walls(base, pal) if cfg.contact else None  # [N, H, W]: never crossed
            layer = None
            if cfg.layers:
                fg, behind = self.layer_heads(feat, base, wall, pal)  # [N, H, W], [N, 3, H, W]
                layer = (fg > 0, behind, wall)
                if aux is not None:
                    aux.update(fg=fg, behind=behind)
            if cells is None:  # inference: its own shifts, new pixels only where needed
                iy, ix = sample_shifts(
                    ylog,
                    xlog,
                    z,
                    cfg.min_p,
                    cfg.objects,
                    cfg.max_dy,
                    cfg.max_dx,
                    cfg.pool,
                    cfg.layers,
                )  # with layers, an object's ring follows it
                if layer is not None and wall is not None:
                    iy, ix = resolve(layer[0], wall, iy, ix, cfg.cell, cfg.max_dy, cfg.max_dx)
            else:
                iy, ix = cells[:2]
            fg_px = layer[0] if layer is not None else None
            paint, keep, res = self.pixel_heads(
                feat, base, iy, ix, out, action, fg_px
            )  # [N, H, W] x 2, [N, 3, H, W]
            if aux is not None:
                aux.update(xlog=xlog, ylog=ylog, paint=paint, keep=keep, res=res, feat=feat)
            if cells is None or len(cells) == 2:
                painted = paint > 0  # [N, H, W]
                if wall is not None:  # nothing is drawn over a solid pixel (where the camera
                    painted &= ~wall  # reveals one, the edge it repeats continues the ground)
                cells = (iy, ix, painted, keep > 0)
            frame, rgb = self.compose(base, res, cells, layer)
            if aux is not None:
                aux["rgb"] = rgb
            return frame, glog
        res = F.pixel_shuffle(out[:, : self.n_res], cfg.cell)  # [N, 3, H, W]
        px = rest[:, : self.n_dx].softmax(1)  # [N, DX, H/c, W/c]
        py = rest[:, self.n_dx : self.n_dx + self.n_dy].softmax(1)  # [N, DY, H/c, W/c]
        if aux is not None:
            aux["px"], aux["py"] = px, py
        alpha = F.interpolate(rest[:, -1:], scale_factor=cfg.cell, mode="nearest")  # [N, 1, H, W]
        moved = shift_mix(shift_mix(base, py, cfg.max_dy, 2), px, cfg.max_dx, 3)  # [N, 3, H, W]
        return torch.lerp(base, moved, alpha).add_(res), glog  # base + alpha (moved - base) + res
