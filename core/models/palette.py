"""The predictor's palette: exact lookups of a frame's colours, and new pixels snapped to the palette.

Every pixel of a game frame, and of a frame the hard-mode predictor generates, is a copy or a palette
colour, so what depends on a pixel's colour alone (is it solid, how sprite-like is it) is a lookup by
its packed 8-bit RGB, not a search or a network over every pixel. A mixin of FramePredictor (it reads
the predictor's `colours`, `solid`, `shown` buffers, `log_beta` and `fg_pix`). No IO.
"""

from __future__ import annotations

import torch

RGB_KEY = torch.tensor([65536, 256, 1])  # an 8-bit RGB colour packed into one integer key


class PaletteOps:
    cfg: object
    colours: torch.Tensor
    solid: torch.Tensor
    shown: torch.Tensor
    log_beta: torch.Tensor
    fg_pix: torch.nn.Module

    def snap(self, rgb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """rgb [N, 3, H, W] with the pixels of mask bool [N, H, W] set to their nearest palette
        colour, exactly (unchanged without a palette)."""
        if not self.cfg.palette:
            return rgb
        out = rgb.permute(0, 2, 3, 1).clone()  # [N, H, W, 3]
        logits = self.colour_logits(out[mask])  # [M, P]
        if self.cfg.contact:  # only colours moving things show (but where the camera reveals)
            inner = self.inner(mask).expand_as(mask)[mask]  # [M]
            logits = logits.masked_fill(inner[:, None] & (self.shown < 0.5)[None], -torch.inf)
        out[mask] = self.colours[logits.argmax(1)]  # [M, 3]
        return out.permute(0, 3, 1, 2)

    def palette_index(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each pixel of img [N, 3, H, W] as an index into the palette, by exact lookup of its packed
        8-bit RGB (every pixel of a game frame or a generated one is a copy or a palette colour) ->
        (int64 [N, H, W], bool [N, H, W]: it is a palette colour)."""
        w = RGB_KEY.to(img.device, torch.int32)  # keys < 2^24: int32, whatever img's dtype
        key = ((img * 255).round().int() * w.view(1, 3, 1, 1)).sum(
            1, dtype=torch.int32
        )  # [N, H, W]
        sk, order = ((self.colours * 255).round().int() * w).sum(1, dtype=torch.int32).sort()  # [P]
        at = torch.searchsorted(sk, key).clamp(max=sk.numel() - 1)  # [N, H, W]
        return order[at], sk[at] == key

    def colour_fg(
        self, img: torch.Tensor, pal: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """fg_pix of each pixel of img [N, 3, H, W] -> [N, 1, H, W], computed once per palette
        colour and looked up (colours off the palette go through fg_pix itself). Measured: the
        16-channel conv over every pixel was a third of a rollout step's time. pal: img's
        palette_index when already computed."""
        if not self.cfg.palette:
            return self.fg_pix(img * 2 - 1)
        idx, hit = self.palette_index(img) if pal is None else pal  # [N, H, W] x 2
        vals = self.fg_pix(self.colours.T[None, :, :, None] * 2 - 1)[0, 0, :, 0]  # [P]
        out = vals[idx][:, None]  # [N, 1, H, W]
        return out if bool(hit.all()) else torch.where(hit[:, None], out, self.fg_pix(img * 2 - 1))

    def inner(self, like: torch.Tensor) -> torch.Tensor:
        """bool [1, 1, W] for a like [N, H, W]: the columns a camera move cannot reveal."""
        col = torch.arange(like.shape[-1], device=like.device)  # [W]
        m = self.cfg.max_global
        return ((col >= m) & (col < like.shape[-1] - m)).view(1, 1, -1)

    def walls(
        self, img: torch.Tensor, pal: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """bool [N, H, W]: the pixels of img [N, 3, H, W] in a solid colour, exactly (each is a copy or
        a palette colour: a lookup, not a nearest-colour search per pixel, every step). pal: img's
        palette_index when already computed."""
        idx, hit = self.palette_index(img) if pal is None else pal  # [N, H, W] x 2
        return (self.solid > 0.5)[idx] & hit

    def colour_logits(self, rgb: torch.Tensor) -> torch.Tensor:
        """[M, 3] -> [M, P]: -beta |rgb - colour_p|^2, a nearest-colour classifier (its cross-entropy
        pulls a pixel into its colour's cell, where an MSE would settle between two)."""
        return -self.log_beta.exp() * torch.cdist(rgb, self.colours).square()  # [M, P]
