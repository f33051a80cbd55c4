"""m1's patch autoencoder: space-to-depth, convolutions on the patch grid, depth-to-space.

    ae = PatchAutoencoder(AEConfig())
    z = ae.encode(x)        # float [N, 3, H, W] in [0, 1] -> float [N, L, H/p, W/p]
    y = ae.decode(z)        # -> float [N, 3, H, W] (clamp to [0, 1] for pixels)

All convolutions run on the (H/p, W/p) grid of p x p patches, so the cost per pixel is small and the
work is dense matmuls a CPU does well. H and W must be multiples of the patch size (the gates pad).
See history/m1-m2-models.md for why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class AEConfig:
    patch: int = 8  # 8x8x3 = 192 values per cell; the grid of a 256x256 frame is 32x32
    latent_channels: int = 8  # 8 per cell: 8 x 32 x 32 x 2 B (fp16) = 16,384 B = 0.083 of a frame
    width: int = 96  # channels on the grid: enough for ~30-colour tile textures, fast on 2 cores
    blocks: int = 2  # residual 3x3 blocks on each side: a 5x5-cell receptive field per side
    head: int = 256  # hidden units of the per-cell output MLP (the decoder's patch "dictionary")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> AEConfig:
        return cls(**d)

    def latent_shape(self, h: int, w: int) -> tuple[int, int, int]:
        return (self.latent_channels, h // self.patch, w // self.patch)


class ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.a = nn.Conv2d(c, c, 3, padding=1)
        self.b = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(F.gelu(self.a(F.gelu(x))))  # [N, C, h, w]


class PatchAutoencoder(nn.Module):
    def __init__(self, cfg: AEConfig = AEConfig()) -> None:  # noqa: B008 - frozen dataclass
        super().__init__()
        self.cfg = cfg
        p2 = 3 * cfg.patch * cfg.patch
        self.enc_in = nn.Conv2d(p2, cfg.width, 1)
        self.enc_blocks = nn.Sequential(*[ResBlock(cfg.width) for _ in range(cfg.blocks)])
        self.enc_out = nn.Conv2d(cfg.width, cfg.latent_channels, 1)
        self.dec_in = nn.Conv2d(cfg.latent_channels, cfg.width, 3, padding=1)
        self.dec_blocks = nn.Sequential(*[ResBlock(cfg.width) for _ in range(cfg.blocks)])
        self.dec_hidden = nn.Conv2d(cfg.width, cfg.head, 1)
        self.dec_out = nn.Conv2d(cfg.head, p2, 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """float [N, 3, H, W] in [0, 1] -> latent float [N, L, H/p, W/p]."""
        h = F.pixel_unshuffle(x * 2 - 1, self.cfg.patch)  # [N, 3p^2, H/p, W/p]
        h = self.enc_blocks(self.enc_in(h))  # [N, width, H/p, W/p]
        return self.enc_out(F.gelu(h))  # [N, L, H/p, W/p]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """latent [N, L, h, w] -> float [N, 3, h*p, w*p], about [0, 1] (not clamped)."""
        h = self.dec_blocks(self.dec_in(z))  # [N, width, h, w]
        h = self.dec_out(F.gelu(self.dec_hidden(F.gelu(h))))  # [N, 3p^2, h, w]
        return F.pixel_shuffle(h, self.cfg.patch) * 0.5 + 0.5  # [N, 3, h*p, w*p]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))  # [N, 3, H, W]

    def roundtrip(self, x: torch.Tensor, dtype: torch.dtype = torch.float16) -> torch.Tensor:
        """Encode, store the latent at `dtype` (what the compression criterion counts), decode."""
        z = self.encode(x).to(dtype).to(x.dtype)  # [N, L, h, w] through the stored precision
        return self.decode(z).clamp(0, 1)  # [N, 3, H, W]


def latent_bytes(cfg: AEConfig, h: int, w: int, dtype: torch.dtype = torch.float16) -> int:
    """Bytes one frame's latent takes at the stored dtype."""
    c, gh, gw = cfg.latent_shape(h, w)
    return c * gh * gw * torch.empty((), dtype=dtype).element_size()


def recon_loss(y: torch.Tensor, x: torch.Tensor, l1_weight: float = 0.1) -> torch.Tensor:
    """MSE (what PSNR measures) plus a little L1 (sharper edges on pixel art): scalar."""
    d = y - x  # [N, 3, H, W]
    return d.square().mean() + l1_weight * d.abs().mean()
