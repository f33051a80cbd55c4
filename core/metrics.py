"""Image metrics as pure functions over tensors (no IO, any device).

Conventions: model space is float [N, 3, H, W] in [0, 1]; game space is uint8 [N, H, W, 3] frames.
Every per-image metric returns one value per image, [N], so callers choose how to aggregate.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

SSIM_WINDOW = 11  # Wang et al. 2004: an 11x11 Gaussian window ...
SSIM_SIGMA = 1.5  # ... with sigma 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03  # the paper's stabilising constants, C = (K * data_range) ** 2


def to_unit(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float32 [N, 3, H, W] in [0, 1]."""
    return frames.permute(0, 3, 1, 2).float() / 255.0  # [N, 3, H, W]


def to_frames(x: torch.Tensor) -> torch.Tensor:
    """float [N, 3, H, W] (any range; NaN becomes 0) -> uint8 [N, H, W, 3], rounded and clamped."""
    x = torch.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)
    return (x.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image: float [N, ...] x2 -> [N]."""
    return (a.float() - b.float()).square().flatten(1).mean(1)  # [N]


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, 10 log10(range^2 / MSE); inf where identical."""
    return 10.0 * torch.log10(data_range**2 / mse(a, b))  # [N]


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """float64 [size]: a normalised 1-D Gaussian (the 2-D window is its outer product)."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2  # [size]
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float = 1.0,
    size: int = SSIM_WINDOW,
    sigma: float = SSIM_SIGMA,
) -> torch.Tensor:
    """Structural similarity per image (Wang et al. 2004): float [N, C, H, W] x2 -> [N].

    Gaussian-weighted local statistics (population covariance), computed per channel over the
    windows that fit inside the image ('valid'), averaged over windows and channels. Equal to
    skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, channel_axis=-1).
    """
    n, c = a.shape[:2]
    g = gaussian_window(size, sigma).to(device=a.device, dtype=torch.float32)  # [size]
    w = (g[:, None] * g[None, :]).expand(c, 1, size, size).contiguous()  # [C, 1, size, size]
    x, y = a.float(), b.float()
    blur = lambda t: F.conv2d(t, w, groups=c)  # noqa: E731  [N, C, H-size+1, W-size+1]
    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)  # [N]


def pack_rgb(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [..., 3] -> int32 [...]: one integer per colour, (r << 16) | (g << 8) | b, for exact
    comparisons and counts."""
    f = frames.to(torch.int32)
    return (f[..., 0] << 16) | (f[..., 1] << 8) | f[..., 2]


def palette_of(frames: torch.Tensor, max_colors: int = 256) -> torch.Tensor:
    """uint8 [..., 3] frames -> uint8 [K, 3]: the distinct colours (at most max_colors, the most
    frequent ones, so a palette stays a palette even on a noisy source)."""
    flat = frames.reshape(-1, 3)  # [P, 3]
    counts = torch.zeros(1 << 24, dtype=torch.int64, device=frames.device)  # one bin per RGB value
    for i in range(0, flat.shape[0], 1 << 22):  # chunks of 4M pixels: bounded memory
        counts += torch.bincount(pack_rgb(flat[i : i + (1 << 22)]), minlength=1 << 24)
    keys = counts.nonzero().squeeze(1)  # [K] packed colours present
    if keys.shape[0] > max_colors:
        keys = keys[counts[keys].argsort(descending=True)[:max_colors]]
    rgb = torch.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], 1)  # [K, 3]
    return rgb.to(torch.uint8)


def palette_distance(x: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """float [N, 3, H, W] in [0, 1] -> float [N, H, W]: Euclidean RGB distance (0..255 units) of each
    pixel to its nearest palette colour; palette uint8 [K, 3]."""
    p = palette.to(device=x.device, dtype=torch.float32)  # [K, 3]
    px = torch.nan_to_num(x, nan=-1.0).permute(0, 2, 3, 1) * 255.0  # [N, H, W, 3]; NaN: far away
    d = [torch.cdist(im.reshape(1, -1, 3), p[None]).amin(-1) for im in px]  # N x [1, H*W]
    return torch.cat(d).view(px.shape[:3])  # [N, H, W]


def palette_fraction(x: torch.Tensor, palette: torch.Tensor, tol: float) -> torch.Tensor:
    """float [N]: the share of each image's pixels within `tol` (0..255 RGB units) of the palette."""
    return (palette_distance(x, palette) <= tol).float().flatten(1).mean(1)  # [N]


def snap_to_palette(x: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """float [N, 3, H, W] in [0, 1] -> uint8 [N, H, W, 3]: every pixel replaced by its nearest
    palette colour (palette uint8 [K, 3])."""
    p = palette.to(device=x.device, dtype=torch.float32)  # [K, 3]
    px = torch.nan_to_num(x, nan=0.0).permute(0, 2, 3, 1) * 255.0  # [N, H, W, 3]
    idx = [torch.cdist(im.reshape(1, -1, 3), p[None]).argmin(-1) for im in px]  # N x [1, H*W]
    return palette.to(x.device)[torch.cat(idx).view(px.shape[:3])]  # [N, H, W, 3]


def locate_in(
    x: torch.Tensor,
    palette: torch.Tensor,
    locate: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """The object locator on a model's output: snap float [N, 3, H, W] to the palette, then run the
    game's locate(uint8 [N, H, W, 3]) -> float [N, 2] (x, y), NaN where the object is absent."""
    return locate(snap_to_palette(x, palette))  # [N, 2]


def position_hits(pred: torch.Tensor, true: torch.Tensor, tol_px: float) -> torch.Tensor:
    """bool [N]: predicted position [N, 2] within tol_px (Euclidean) of the true one [N, 2]; a NaN on
    either side is a miss."""
    d = (pred - true).square().sum(1).sqrt()  # [N]
    return torch.nan_to_num(d, nan=float("inf")) <= tol_px


def locate_color(
    frames: torch.Tensor, rgb: tuple[int, int, int], top: int = 0, bottom: int | None = None
) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 2] (x, y): centroid (pixel centres at +0.5) of the pixels of
    exactly colour rgb within rows [top, bottom); NaN where there are none. A locator for games whose
    object has a colour of its own in a known band (Pong's right paddle below the score)."""
    col = torch.tensor(rgb, dtype=torch.uint8, device=frames.device)
    m = (frames == col).all(-1)  # [N, H, W]
    m[:, :top] = False
    if bottom is not None:
        m[:, bottom:] = False
    h, w = m.shape[1:]
    cnt = m.sum((1, 2)).float()  # [N]
    xs = (m.sum(1).float() * (torch.arange(w, device=frames.device) + 0.5)).sum(1)  # [N]
    ys = (m.sum(2).float() * (torch.arange(h, device=frames.device) + 0.5)).sum(1)  # [N]
    out = torch.stack([xs / cnt, ys / cnt], 1)  # [N, 2]
    return torch.where(cnt[:, None] > 0, out, torch.full_like(out, float("nan")))


MOVING_TOL = 8  # uint8 units: a pixel "moves" where a channel differs from the background by more


def background(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [T, H, W, 3] frames of one episode -> uint8 [H, W, 3]: the per-pixel median over time,
    what the episode shows most of the time at each pixel (its static background)."""
    t = frames.shape[0]
    # contiguous: torch's median misreads stride-0 (expanded) views
    flat = frames.contiguous().reshape(t, -1)
    return flat.median(0).values.view(frames.shape[1:])  # [H, W, 3]


def moving_mask(frames: torch.Tensor, bg: torch.Tensor, tol: int = MOVING_TOL) -> torch.Tensor:
    """bool [N, H, W]: the pixels of uint8 frames [N, H, W, 3] that differ from the background bg
    (uint8 [H, W, 3] or [N, H, W, 3]) by more than tol in some channel: what moves (sprites, a ball,
    a scrolled landscape), whatever the game."""
    d = (frames.to(torch.int16) - bg.to(torch.int16)).abs().amax(-1)  # [N, H, W]
    return d > tol


def masked_sq_error(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> tuple[float, int]:
    """Sum of squared errors over the masked pixels (all channels) of float [N, C, H, W] x2 and the
    number of values summed; mask bool [N, H, W]."""
    m = mask[:, None].expand_as(a)  # [N, C, H, W]
    e = (a.float() - b.float()).square()[m]
    return float(e.sum()), int(e.numel())


def psnr_of_sq_error(sq_sum: float, count: int, data_range: float = 1.0) -> float:
    """PSNR in dB of a pooled squared error (NaN where nothing was counted, inf where exact)."""
    if count == 0:
        return float("nan")
    m = sq_sum / count
    return float("inf") if m == 0 else 10.0 * float(torch.log10(torch.tensor(data_range**2 / m)))


def frame_variety(frames: torch.Tensor, tol: int = MOVING_TOL) -> float:
    """The share of pixels at which uint8 frames [N, H, W, 3] are not all equal (within tol) to their
    per-pixel median: 0 for a set of identical screens, ~1 for a scrolling world."""
    return float(moving_mask(frames, background(frames), tol).any(0).float().mean())


def components(mask: torch.Tensor) -> torch.Tensor:
    """8-connected components of bool [N, H, W] -> int64 [N, H, W]: 0 off the mask, else a label
    shared by exactly the pixels of one component (the largest flat index + 1 among them).

    Pure torch, hook-and-compress (Shiloach-Vishkin style): every pixel points to a root (a label is a
    pixel's flat index + 1, pointers only grow); each round a root is hooked to the largest root seen
    next to any of its pixels, then paths are compressed; a few dozen rounds even on winding shapes."""
    n, h, w = mask.shape
    m = mask.flatten(1)  # [N, P]
    idx = torch.arange(1, h * w + 1, device=mask.device, dtype=torch.int64).expand(n, -1)
    par = torch.where(m, idx, torch.zeros_like(idx))  # [N, P]; 0 off the mask
    mf = mask.view(n, 1, h, w).float()
    while True:
        nb = F.max_pool2d(par.view(n, 1, h, w).float(), 3, 1, 1) * mf  # exact below 2**24
        nb = nb.flatten(1).long()  # [N, P] the largest neighbouring pointer
        old = par
        par = par.scatter_reduce(1, (par - 1).clamp(min=0), nb * m, "amax")  # hook my root
        par = torch.maximum(par, nb)
        while True:  # compress: point to my pointer's pointer until that changes nothing
            nxt = par.gather(1, (par - 1).clamp(min=0)) * m
            if torch.equal(nxt, par):
                break
            par = nxt
        if torch.equal(par, old):
            return par.view(n, h, w)


def camera_shift(before: torch.Tensor, after: torch.Tensor, max_shift: int = 8) -> torch.Tensor:
    """The whole-frame translation that best explains `after` from `before` (float [N, 3, H, W]):
    int64 [N, 2] (dx, dy), |d| <= max_shift, horizontal first then vertical (mean absolute difference
    over the overlap); (0, 0) for a fixed screen. A scrolling camera moves every background pixel; the
    objects that move on their own are what differs once this is undone."""

    def best(a: torch.Tensor, b: torch.Tensor, dim: int) -> torch.Tensor:
        n = a.shape[-1] if dim == -1 else a.shape[-2]
        errs = []
        for d in range(-max_shift, max_shift + 1):
            lo, hi = max(0, d), n + min(0, d)  # after[x] ~ before[x - d] for x in [lo, hi)
            bs, as_ = b.narrow(dim, lo, hi - lo), a.narrow(dim, lo - d, hi - lo)
            errs.append((bs - as_).abs().flatten(1).nanmean(1))  # NaN: a border revealed earlier
        e = torch.stack(errs, 1)  # [N, 2m+1]
        e = e + (torch.arange(-max_shift, max_shift + 1).abs() * 1e-7)  # ties: the smaller shift
        return e.argmin(1) - max_shift

    a = before.float().mean(1, keepdim=True)  # [N, 1, H, W]: one channel is enough to align
    b = torch.nan_to_num(after.float(), nan=1.0).mean(1, keepdim=True)
    dx = best(a, b, -1)
    a = torch.stack([_shift(im, int(x), 0) for im, x in zip(a, dx, strict=True)])
    dy = best(a, b, -2)
    return torch.stack([dx, dy], 1)


def _shift(im: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """[C, H, W] moved by (dx, dy); the revealed border is NaN."""
    out = torch.full_like(im, float("nan"))
    h, w = im.shape[-2:]
    ys, yd = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    xs, xd = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[..., yd, xd] = im[..., ys, xs]
    return out


def moving_objects(
    before: torch.Tensor,
    after: torch.Tensor,
    thr: float,
    min_area: int,
    max_area: int,
    shift: torch.Tensor | None = None,
    join_px: int = 0,
) -> list[torch.Tensor]:
    """What moved between two frames, found from the frames alone (no game knowledge): the 8-connected
    components of the pixels whose largest channel change exceeds thr (images float [N, 3, H, W] in
    [0, 1]), keeping those of min_area..max_area pixels (smaller: noise; larger: background). With
    `shift` (int [N, 2], from camera_shift of the true step), `before` is first moved by it, so a
    scrolling background cancels and its revealed border is left out. With join_px, changed pixels
    that close ranks after dilating by join_px are one object (its centroid: of the changed pixels). -> per image, float [k, 2] (x, y) centroids (pixel centres at +0.5); a component
    is the part of an object that appeared or disappeared (an edge, for a flat-coloured sprite)."""
    if shift is not None:  # undo the camera first; the revealed border is not an object
        moves = shift.tolist()
        before = torch.stack([_shift(im, x, y) for im, (x, y) in zip(before, moves, strict=True)])
    diff = (torch.nan_to_num(after, nan=1.0) - before).abs().amax(1) > thr  # [N, H, W]
    diff &= ~torch.isnan(before).any(1)
    near = diff
    if (
        join_px > 0
    ):  # changed pixels within 2 * join_px of each other: one object (a sprite's edges)
        k = 2 * join_px + 1
        near = F.max_pool2d(diff[:, None].float(), k, 1, join_px)[:, 0] > 0
    lab = (components(near) * diff).flatten(1)  # [N, P]; a label is a flat index + 1
    h, w = diff.shape[1:]
    pix = torch.arange(h * w, device=diff.device)
    xs, ys = (pix % w).double() + 0.5, (pix // w).double() + 0.5  # [P] pixel centres
    out = []
    for im in lab:  # [P]
        cnt = torch.bincount(im, minlength=h * w + 1)[1:]  # [P] pixels per label
        sx = torch.bincount(im, weights=xs, minlength=h * w + 1)[1:]
        sy = torch.bincount(im, weights=ys, minlength=h * w + 1)[1:]
        keep = (cnt >= max(1, min_area)) & (cnt <= max_area)
        c = torch.stack([sx[keep], sy[keep]], 1) / cnt[keep, None]  # [k, 2]
        out.append(c.float())
    return out


def objects_matched(pred: list[torch.Tensor], true: list[torch.Tensor], tol_px: float) -> list[int]:
    """Per image, how many true centroids [k, 2] have their own predicted centroid [j, 2] within tol_px
    (greedy one-to-one, nearest pairs first: a predicted object explains at most one true object)."""
    hits = []
    for p, t in zip(pred, true, strict=True):
        if t.shape[0] == 0 or p.shape[0] == 0:
            hits.append(0)
            continue
        d = torch.cdist(t.double(), p.double())  # [k, j]
        n = 0
        while True:
            v = d.min()
            if not torch.isfinite(v) or v > tol_px:
                break
            i, j = divmod(int(d.argmin()), d.shape[1])
            d[i, :], d[:, j] = float("inf"), float("inf")
            n += 1
        hits.append(n)
    return hits


def outcome_coverage(
    samples: torch.Tensor, futures: torch.Tensor, valid_mse: float
) -> tuple[int, int, torch.Tensor]:
    """How many distinct true outcomes one context's samples reach: samples float [S, 3, H, W], the true
    futures float [M, 3, H, W] (exactly equal futures are one outcome). Each sample is matched to its
    nearest future (MSE) and counts only within valid_mse of it. -> (outcomes reached, distinct
    outcomes, int64 [S] outcome of each sample, -1 where it matched none)."""
    reps: list[torch.Tensor] = []  # one future per distinct outcome
    inv = torch.empty(futures.shape[0], dtype=torch.int64)  # [M] outcome ids
    for m, f in enumerate(futures):
        inv[m] = next((i for i, r in enumerate(reps) if torch.equal(r, f)), len(reps))
        if inv[m] == len(reps):
            reps.append(f)
    x = torch.nan_to_num(samples, nan=2.0).flatten(1)  # [S, P]
    err = torch.stack([(x - r.flatten()).square().mean(1) for r in reps], 1)  # [S, O]
    best, arg = err.min(1)  # [S]
    out = torch.where(best < valid_mse, arg, torch.full_like(arg, -1))  # [S]
    reached = int(torch.unique(out[out >= 0]).numel())
    return reached, len(reps), out
