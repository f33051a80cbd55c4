"""The painter (core/models/painter.py) and its bank (core/models/paintbank.py)."""

from __future__ import annotations

from pathlib import Path

import orjson
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from safetensors.torch import load

from core.models.blockmotion import block_unroll_loss
from core.models.motion import best_shift, cell_shift_labels, consensus, shift_global
from core.models.paintbank import painter_bank, painter_loss
from core.models.painter import near_sprites
from core.models.predictor import FramePredictor, PredictorConfig
from tests.conftest import gate_cli, save_untrained_predictor
from tests.test_blockmotion import SMALL, _sprite_on_ground

COLOURS = torch.tensor([[0.0, 0, 1], [0, 0.5, 0], [1, 0, 0], [0, 0, 0]])


def _arms_up(lift: int) -> torch.Tensor:
    """_sprite_on_ground with the arms-up pose: two red pixels above each side of its top row."""
    img = _sprite_on_ground(lift)
    img[0, :, 16 - lift : 18 - lift, 10] = torch.tensor([1.0, 0, 0]).view(3, 1)
    img[0, :, 16 - lift : 18 - lift, 13] = torch.tensor([1.0, 0, 0]).view(3, 1)
    return img


def test_the_painter_starts_silent_and_learns_a_pose_the_action_asks_for() -> None:
    torch.manual_seed(0)
    cfg = PredictorConfig(**{**SMALL.to_dict(), "palette": 4, "layers": True, "painter": 32})
    net = FramePredictor(cfg)
    net.colours.copy_(COLOURS)
    # action 0: a hop of 3 px; action 1: the same hop with the arms up (the move teaches the
    # sprite layer which pixels are the sprite's, and the painter paints near those)
    still = torch.cat([_sprite_on_ground(0)[:, None]] * 3 + [_sprite_on_ground(3)[:, None]], 1)
    pose = torch.cat([_sprite_on_ground(0)[:, None]] * 3 + [_arms_up(3)[:, None]], 1)
    window, acts = torch.cat([still, pose]), torch.tensor([[0], [1]])
    y0 = net(window[:, :3], acts[:, 0], torch.zeros(2, 8))
    assert torch.equal(y0, window[:, 2])  # zero-initialised: as without a painter
    opt, g = torch.optim.Adam(net.parameters(), lr=3e-3), torch.Generator().manual_seed(1)
    for _ in range(300):  # measured: right at 250 and 300; without the painter never both at once
        loss = block_unroll_loss(net, window, acts, 2, g, one_frame=0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        y = net(window[:, :3], acts[:, 0], torch.zeros(2, 8))
    assert torch.equal(y[0], window[0, 3]) and torch.equal(y[1], window[1, 3])  # arms only on 1


def test_the_bank_holds_what_the_model_itself_computes_for_its_cells() -> None:
    torch.manual_seed(0)
    cfg = PredictorConfig(**{**SMALL.to_dict(), "palette": 4, "layers": True, "painter": 16})
    net = FramePredictor(cfg)
    net.colours.copy_(COLOURS)
    with torch.no_grad():
        net.painter.net[-1].weight.normal_(0, 0.1)  # a painter that says something
    _all_sprite(net)
    ctx = torch.cat([_sprite_on_ground(0)[:, None]] * 3, 1).repeat(2, 1, 1, 1, 1)
    target, action = torch.cat([_arms_up(3), _sprite_on_ground(2)]), torch.tensor([1, 0])
    bank = painter_bank(net, ctx, action, target)
    g = best_shift(ctx[:, -1], target, cfg.max_global)
    iy, ix, where, ok = cell_shift_labels(
        shift_global(ctx[:, -1], g - cfg.max_global), target, 8, cfg.max_dy, cfg.max_dx
    )
    iy, ix, _ = consensus(iy, ix, where, ok)
    aux: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        net.decode(net.encode(ctx), action, torch.zeros(2, 8), shift=g, cells=(iy, ix), aux=aux)
        y = net.painter.net(bank["x"]).view(bank["x"].shape[0], 4, -1)  # [M, 4, 64]
    i, cy, cx = near_sprites(aux["fg"] > 0, 8).nonzero().unbind(1)
    assert i.numel() == bank["x"].shape[0] == 2 * 16
    paint = F.pixel_unshuffle(aux["paint"][:, None], 8)[i, :, cy, cx]  # [M, 64]
    rgb = F.pixel_unshuffle(aux["rgb"], 8)[i, :, cy, cx].view(-1, 3, 64)  # [M, 3, 64]
    assert torch.allclose(bank["paint0"] + y[:, 0], paint, atol=1e-5)
    assert torch.allclose(bank["rgb0"] + y[:, 1:], rgb, atol=1e-5)
    loss = painter_loss(net, bank)
    loss.backward()
    assert torch.isfinite(loss) and net.painter.net[0].weight.grad is not None
    assert net.head.weight.grad is None  # only the painter learns from the bank


def _all_sprite(net: FramePredictor) -> None:
    with torch.no_grad():
        net.fg_pix[2].bias.fill_(3.0)  # every pixel a sprite's: every cell is painted near


def test_m4_train_teaches_the_painter_alone_from_a_bank(project: Path) -> None:
    cfg = PredictorConfig(hard=True, layers=True)
    init = save_untrained_predictor(project / "init", cfg, _all_sprite)
    args = ["m4", "train", "--steps", "3", "--episodes", "2", "--episode-steps", "12"]
    args += ["--init", str(init)]
    args += ["--threads", "1", "--layers", "--painter", "8", "--only", "painter", "--focus", "1"]
    args += [
        "--bank",
        "4",
        "--batch",
        "64",
        "--horizon",
        "2",
        "--one-frame",
        "1",
    ]  # 2: own frames too
    r = CliRunner().invoke(gate_cli(), [*args, "--device", "cpu", "--json"])
    assert r.exit_code == 0, r.output
    ckpt = Path(orjson.loads(r.stdout)["artifacts"][0])
    tensors = load((ckpt / "model.safetensors").read_bytes())
    assert tensors["model.painter.net.4.weight"].abs().sum() > 0  # it learnt
    assert tensors["model.head.weight"].abs().sum() == 0  # the rest stayed as it was: zero here


def test_a_bank_needs_the_painter_alone(project: Path) -> None:
    r = CliRunner().invoke(gate_cli(), ["m4", "train", "--bank", "4", "--steps", "1"])
    assert r.exit_code == 2 and "--bank" in r.output
