"""The built-in models behind the protocols of core/models/protocols.py.

    codec = PatchCodec(PatchAutoencoder(cfg))     # FrameCodec: fp16 latents on the 8x8 patch grid
    wm = PixelWorldModel(FramePredictor(cfg))     # WorldModel: moves the last frame's pixels

Both pad frames to their grid (edge-replicated) and crop back, so any frame size works.
"""

from __future__ import annotations

import torch

from core.metrics import to_unit
from core.models.autoencoder import PatchAutoencoder, latent_bytes
from core.models.predictor import FramePredictor
from core.models.protocols import rollout_by_steps
from core.pixels import pad_to

BATCH = 16  # frames per forward pass: bounded memory, still dense matmuls on a CPU


class PatchCodec:
    """FrameCodec over m1's patch autoencoder; the latent is stored as `dtype` (fp16 by default)."""

    def __init__(self, model: PatchAutoencoder, dtype: torch.dtype = torch.float16) -> None:
        self.model, self.dtype, self.cfg = model, dtype, model.cfg

    @torch.no_grad()
    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        dev = next(self.model.parameters()).device
        out = []
        for i in range(0, frames.shape[0], BATCH):
            x = pad_to(to_unit(frames[i : i + BATCH].to(dev)), self.cfg.patch)  # [B, 3, H', W']
            out.append(self.model.encode(x).to(self.dtype))  # [B, L, H'/p, W'/p]
        return torch.cat(out)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        h, w = size
        out = []
        for i in range(0, latents.shape[0], BATCH):
            z = latents[i : i + BATCH].float()
            out.append(self.model.decode(z)[..., :h, :w].clamp(0, 1))  # [B, 3, H, W]
        return torch.cat(out)

    def latent_bytes(self, h: int, w: int) -> int:
        m = self.cfg.patch
        return latent_bytes(self.cfg, h + (-h) % m, w + (-w) % m, self.dtype)


class PixelWorldModel:
    """WorldModel over m2's pixel-moving predictor (and its pose slot, when it has one). Its rollout
    feeds back the raw predictions."""

    def __init__(self, net: FramePredictor) -> None:
        self.net, self.cfg = net, net.cfg
        self.context_frames, self.noise_dim = net.cfg.context, net.cfg.noise_dim
        self.n_actions = net.cfg.n_actions

    @torch.no_grad()
    def predict(
        self, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        dev = next(self.net.parameters()).device
        h, w = context.shape[-2:]
        out = []
        for i in range(0, context.shape[0], BATCH):
            ctx = context[i : i + BATCH].to(dev)  # [B, K, 3, H, W]
            a, z = actions[i : i + BATCH].to(dev), noise[i : i + BATCH].to(dev)
            y = self.net(pad_to(ctx, self.cfg.multiple), a, z)[..., :h, :w].clamp(0, 1)
            if self.cfg.poses:  # the player redrawn whole in its next pose (core/models/poses.py)
                y = self.net.pose.apply(ctx, a, y, z)
            out.append(y)  # clamp keeps NaN
        return torch.cat(out)

    def rollout(
        self, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        return rollout_by_steps(self, context, actions, noise)
