"""Block motion (core/models/blockmotion.py): the searched shifts, the hard per-cell move, the loss."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import torch
from click.testing import CliRunner
from safetensors.torch import load

from core.models.blockmotion import block_unroll_loss, colour_prior
from core.models.cells import per_object, sample_shifts, shift_cells
from core.models.layers import row_fill
from core.models.motion import cell_shift_labels, consensus, past_motion, shift_global
from core.models.predictor import FramePredictor, PredictorConfig
from tests.conftest import gate_cli

SMALL = PredictorConfig(hard=True, width1=8, width2=8, width3=8, max_dx=3, max_dy=4, max_global=2)


def test_the_search_finds_planted_block_motion() -> None:
    g = torch.Generator().manual_seed(0)
    img = torch.rand(2, 3, 64, 64, generator=g)  # [2, 3, 64, 64]
    dy = torch.randint(-8, 9, (2, 8, 8), generator=g)  # [2, 8, 8]
    dx = torch.randint(-5, 6, (2, 8, 8), generator=g)
    iy, ix, _, _ = cell_shift_labels(img, shift_cells(img, dy, dx, 8), 8, 8, 5)
    inner = (slice(None), slice(1, 7), slice(1, 7))  # cells whose source lies inside the frame
    assert torch.equal(iy[inner] - 8, dy[inner]) and torch.equal(ix[inner] - 5, dx[inner])


def test_unchanged_cells_say_no_motion_and_shifts_are_whole() -> None:
    img = torch.zeros(1, 3, 32, 32)
    img[0, :, 8:16, 8:16] = 1.0  # one white block on black
    iy, ix, where, _ = cell_shift_labels(img, img, 8, 4, 3)
    assert (iy == 4).all() and (ix == 3).all() and where.shape[0] == 0
    uniform = torch.full((1, 4, 4), 2)
    moved = shift_cells(img, torch.zeros_like(uniform), uniform, 8)
    assert torch.equal(moved[..., 2:], shift_global(img, torch.tensor([2]))[..., 2:])
    assert set(moved.unique().tolist()) <= {0.0, 1.0}  # copied, never mixed


def test_past_motion_reads_the_camera_and_each_cells_move_off_the_context() -> None:
    g = torch.Generator().manual_seed(2)
    scene = torch.rand(1, 3, 32, 48, generator=g)  # [1, 3, 32, 48]
    a = scene[..., 8:40]  # [1, 3, 32, 32]
    b = scene[..., 6:38].clone()  # the camera moved: everything 2 px right
    b[..., 8:16, 16:24] = torch.roll(b, (-3, 1), (2, 3))[..., 8:16, 16:24]  # one cell moves more
    feats = past_motion(torch.stack([a, a, b], 1), 8, 4, 3, 2)  # [1, 2 (5 + 9 + 7), 4, 4]
    first, second = feats[0, :21], feats[0, 21:]  # a -> a, a -> b
    cam, dy, dx = second[:5, 0, 0], second[5:14], second[14:]
    assert (feats.sum(1) == 2 * 3).all()  # three one-hots per pair of frames
    assert cam.argmax() == 2 + 2  # the camera: +2
    assert (dy.argmax(0)[1, 2] - 4, dx.argmax(0)[1, 2] - 3) == (-3, 1)  # the planted cell
    assert (first[2] == 1).all() and (first[5 + 4] == 1).all() and (first[14 + 3] == 1).all()


def test_motion_fed_and_pixel_headed_predictors_start_as_copy_last_and_learn() -> None:
    torch.manual_seed(0)
    net = FramePredictor(replace(SMALL, motion_in=True, pixel_head=4))
    ctx = torch.rand(2, SMALL.context, 3, 32, 32)
    y = net(ctx, torch.tensor([0, 4]), torch.randn(2, SMALL.noise_dim))
    assert torch.equal(y, ctx[:, -1])  # zero-initialised: as if it saw no moves
    scene = torch.rand(2, 3, 32, 40)
    window = torch.stack([scene[..., 2 * i : 2 * i + 32] for i in range(4)], 1)
    opt, gen = torch.optim.Adam(net.parameters(), lr=1e-2), torch.Generator().manual_seed(1)
    for _ in range(3):  # the first step moves only the zeroed heads; then the trunk learns
        opt.zero_grad()
        block_unroll_loss(net, window, torch.zeros(2, 1, dtype=torch.int64), 2, gen, 0.0).backward()
        opt.step()
    assert net.motion_stem.weight.abs().sum() > 0 and net.pix_out.weight.abs().sum() > 0
    enc, a, z = net.encode(ctx), torch.tensor([1, 2]), torch.randn(2, SMALL.noise_dim)
    aux: dict[str, torch.Tensor] = {}
    y, _ = net.decode(enc, a, z, aux=aux)
    mine = tuple(aux[n].argmax(1) for n in ("ylog", "xlog"))  # the argmax shifts, forced
    forced, _ = net.decode(enc, a, z, cells=mine)  # its own per-pixel choices for them
    paint, keep, res = net.pixel_heads(aux["feat"], ctx[:, -1], *mine)
    again, _ = net.compose(ctx[:, -1], res, (*mine, paint > 0, keep > 0))
    assert torch.equal(forced, again)


def test_consensus_teaches_a_sprites_flat_cells_the_sprites_move() -> None:
    g = torch.Generator().manual_seed(3)
    img = torch.zeros(1, 3, 32, 32)  # black sky
    img[0, :, 8:16, 8:16] = torch.rand(3, 8, 8, generator=g)  # a textured head
    img[0, :, 16:32, 8:24] = 1.0  # a flat white body under it
    moved = torch.zeros_like(img)
    moved[..., 2:, 1:] = img[..., :-2, :-1]  # the sprite falls 2 px and steps 1 px right
    iy, ix, where, ok = cell_shift_labels(img, moved, 8, 4, 3)
    body = (where[:, 1] == 3) & (where[:, 2] == 1)  # a flat cell: many shifts explain it
    assert ok[body].sum() > 1
    iy2, ix2, ok2 = consensus(iy, ix, where, ok)
    assert (int(iy2[0, 3, 1]) - 4, int(ix2[0, 3, 1]) - 3) == (2, 1)  # the head's move
    assert ok2[body].sum() == 1 and (ok2 <= ok).all()  # narrowed within its own set
    assert torch.equal(iy2[0, 1, 1], iy[0, 1, 1])  # the textured cell keeps its label


def test_an_untrained_hard_predictor_is_copy_last() -> None:
    torch.manual_seed(0)
    net = FramePredictor(SMALL)
    ctx = torch.rand(2, SMALL.context, 3, 32, 32)
    y = net(ctx, torch.tensor([0, 4]), torch.randn(2, SMALL.noise_dim))
    assert torch.equal(y, ctx[:, -1])


def test_the_block_loss_trains_the_shift_choices() -> None:
    torch.manual_seed(0)
    net = FramePredictor(SMALL)
    g = torch.Generator().manual_seed(1)
    scene = torch.rand(2, 3, 32, 40, generator=g)
    window = torch.stack([scene[..., 2 * i : 2 * i + 32] for i in range(4)], 1)  # scrolls 2 px
    actions = torch.zeros(2, 1, dtype=torch.int64)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(12):
        loss = block_unroll_loss(net, window, actions, 2, g, one_frame=0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert torch.isfinite(torch.tensor(losses)).all() and losses[-1] < 0.5 * losses[0]


def test_m4_train_smoke_writes_a_block_motion_predictor(project: Path) -> None:
    args = ["m4", "train", "--steps", "2", "--episodes", "2", "--episode-steps", "10"]
    args += ["--batch", "1", "--k", "2", "--horizon", "2", "--init", "", "--threads", "1"]
    args += ["--layers", "--contact"]
    r = CliRunner().invoke(gate_cli(), [*args, "--device", "cpu", "--json"])
    assert r.exit_code == 0, r.output
    ckpt = Path(orjson.loads(r.stdout)["artifacts"][0])
    meta = orjson.loads((ckpt / "meta.json").read_bytes())
    cfg = meta["model"]["config"]
    assert cfg["hard"] is True and cfg["contact"] is True and meta["training"]["steps"] == 2
    tensors = load((ckpt / "model.safetensors").read_bytes())
    palette = [tuple(c) for c in meta["model"]["palette"]]
    solid = {palette[i] for i in tensors["model.solid"].nonzero().flatten().tolist()}
    assert (56, 160, 40) in solid  # the grass the player walks on (core/games/platformer_art.py)
    assert not solid & {(152, 204, 252), (168, 214, 252), (184, 222, 252), (200, 230, 252)}  # sky


def test_contact_needs_layers(project: Path) -> None:
    r = CliRunner().invoke(gate_cli(), ["m4", "train", "--contact", "--steps", "1"])
    assert r.exit_code == 2 and "--contact" in r.output


def test_painted_pixels_are_drawn_from_the_palette() -> None:
    torch.manual_seed(0)
    net = FramePredictor(PredictorConfig(**{**SMALL.to_dict(), "palette": 4}))
    net.colours.copy_(torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 1]]))
    with torch.no_grad():
        net.paint_head.bias.fill_(5.0)  # every pixel paints
        net.head.bias[: net.n_res] = 0.3  # a residual that lands between colours
    ctx = torch.zeros(1, SMALL.context, 3, 32, 32)
    y = net(ctx, torch.tensor([0]), torch.zeros(1, SMALL.noise_dim))
    colours = {tuple(v) for v in y[0].permute(1, 2, 0).reshape(-1, 3).tolist()}
    assert colours <= {tuple(c) for c in net.colours.tolist()}


def test_an_object_takes_its_surest_movers_shift() -> None:
    ylog = torch.full((1, 5, 4, 4), -9.0)
    xlog = torch.full((1, 3, 4, 4), -9.0)
    ylog[:, 2], xlog[:, 1] = 9.0, 9.0  # everywhere: no motion, surely
    ylog[0, :, 1, 1] = torch.tensor([-9.0, -9, -9, -9, 9])  # the body: down 2, surely
    ylog[0, :, 1, 2] = torch.tensor([-9.0, -9, 0.3, 0.5, -9])  # its edge: unsure, leaning down 1
    oy, ox = per_object(ylog, xlog, 2, 1)
    assert oy[0, :, 1, 2].argmax() == 4 and oy[0, :, 1, 1].argmax() == 4  # one object, one shift
    assert oy[0, :, 3, 3].argmax() == 2  # the still cells keep theirs
    py, _ = per_object(ylog, xlog, 2, 1, pool=True)  # the mean, weighted by sureness of moving
    p = py[0, :, 1, 2].exp()  # [5]
    assert torch.allclose(p, py[0, :, 1, 1].exp()) and p.argmax() == 4 and 0.5 < p[4] < 1
    assert py[0, :, 3, 3].argmax() == 2


def _sprite_on_ground(lift: int) -> torch.Tensor:
    """float [1, 3, 32, 32]: sky, ground from row 24, a 4x6 sprite of red and black rows standing
    on it, raised by lift px."""
    img = torch.zeros(1, 3, 32, 32)
    img[0, 2] = 1.0  # blue sky
    img[0, :, 24:] = torch.tensor([0.0, 0.5, 0.0]).view(3, 1, 1)  # green ground
    img[0, :, 18 - lift : 24 - lift, 10:14] = torch.tensor([1.0, 0, 0]).view(3, 1, 1)
    img[0, :, 19 - lift : 24 - lift : 2, 10:14] = 0.0  # black stripes: a sprite has texture
    return img


def test_layers_move_the_sprite_and_leave_the_ground_it_stood_on() -> None:
    net = FramePredictor(PredictorConfig(**{**SMALL.to_dict(), "palette": 4, "layers": True}))
    net.colours.copy_(torch.tensor([[0.0, 0, 1], [0, 0.5, 0], [1, 0, 0], [0, 0, 0]]))
    base = _sprite_on_ground(0)
    fg = torch.zeros(1, 32, 32, dtype=torch.bool)
    fg[:, 18:24, 10:14] = True  # the sprite's pixels
    behind = row_fill(base, ~fg)  # the sky beside the sprite
    up = torch.full((1, 4, 4), 4 - 4)  # every cell: up 4 px (index 0 = -4), its ground included
    out = net.layered(base, fg, behind, up, torch.full((1, 4, 4), 3))
    assert torch.equal(out, _sprite_on_ground(4))  # ground stays, the sky the sprite left is sky
    assert not torch.equal(shift_cells(base, up - 4, up * 0, 8), _sprite_on_ground(4))  # drags


def test_a_layered_predictor_learns_which_pixels_are_sprite() -> None:
    torch.manual_seed(0)
    net = FramePredictor(PredictorConfig(**{**SMALL.to_dict(), "palette": 4, "layers": True}))
    net.colours.copy_(torch.tensor([[0.0, 0, 1], [0, 0.5, 0], [1, 0, 0], [0, 0, 0]]))
    window = torch.cat([_sprite_on_ground(lift)[:, None] for lift in (0, 0, 0, 3)], 1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(1)
    for _ in range(40):
        loss = block_unroll_loss(net, window, torch.zeros(1, 1, dtype=torch.int64), 2, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    aux: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        y, _ = net.decode(net.encode(window[:, :3]), torch.tensor([0]), torch.zeros(1, 8), aux=aux)
    fg = aux["fg"][0]  # [32, 32] logits
    assert fg[24:27, 10:14].max() < 0 < fg[19:21, 10:14].min()  # the sprite moves, its ground not
    assert torch.equal(y, window[:, 3])


def test_with_a_ring_the_cells_around_an_object_take_its_shift() -> None:
    ylog = torch.full((1, 5, 5, 5), -9.0)
    xlog = torch.full((1, 3, 5, 5), -9.0)
    ylog[:, 2], xlog[:, 1] = 9.0, 9.0  # everywhere: no motion, surely
    ylog[0, :, 2, 2] = torch.tensor([9.0, -9, -9, -9, -9])  # one cell: up 2, surely
    iy, ix = sample_shifts(ylog, xlog, torch.zeros(1, 8), 0, True, 2, 1, ring=True)
    assert (iy[0, 1:4, 1:4] == 0).all() and (ix == 1).all()  # the object and its 8 neighbours
    assert iy[0, 0].eq(2).all() and iy[0, :, 4].eq(2).all()  # two cells away: their own
    iy, _ = sample_shifts(ylog, xlog, torch.zeros(1, 8), 0, True, 2, 1)
    assert iy[0, 2, 2] == 0 and (iy == 0).sum() == 1  # without: the object alone


def test_row_fill_takes_the_background_beside_a_sprite_not_its_own_colour() -> None:
    sky, hill, red = (torch.tensor(v).view(3, 1) for v in ([0.0, 0, 1], [0, 0.5, 0], [1.0, 0, 0]))
    row = torch.cat([sky.expand(3, 4), red.expand(3, 5), hill.expand(3, 3)], 1)  # [3, 12]
    img = row[None, :, None, :]  # [1, 3, 1, 12]: sky | a red run | hill
    bg = torch.ones(1, 1, 12, dtype=torch.bool)
    bg[0, 0, 4:7] = False  # the run's left part is sprite; its right part was never shown to move
    out = row_fill(img, bg)[0, :, 0]  # [3, 12]
    assert torch.equal(out[:, 4:6], sky.expand(3, 2))  # nearer the sky side: sky, not red
    assert torch.equal(out[:, 7:9], hill.expand(3, 2))  # the red inside takes the hill beyond it


def test_unknown_pixels_lean_toward_their_colours_majority_label() -> None:
    net = FramePredictor(PredictorConfig(**{**SMALL.to_dict(), "palette": 4, "layers": True}))
    net.colours.copy_(torch.tensor([[0.0, 0, 1], [0, 0.5, 0], [1, 0, 0], [0, 0, 0]]))
    base = _sprite_on_ground(0)  # sky, ground, a red and black sprite
    label = torch.zeros(1, 32, 32)
    known = torch.zeros(1, 32, 32, dtype=torch.bool)
    label[0, 18, 10], known[0, 18, 10] = 1.0, True  # one red pixel seen moving
    known[0, 0, :3] = True  # three sky pixels seen staying
    label[0, 0, 3], known[0, 0, 3] = 1.0, True  # and one called sprite: outvoted
    prior = colour_prior(net, base, label, known)
    assert prior[0, 20, 11] == 1  # red: sprite
    assert prior[0, 5, 5] == 0 and prior[0, 28, 0] == 0  # sky (outvoted) and ground (unseen)
