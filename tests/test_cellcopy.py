"""Gate m9's cell-copy world model (core/models/cellcopy.py): moves and colours read off a game's frames,
exact targets, an untrained model that is copy-last, a composition that reproduces the next frame when
the right choice is made, and a loss that trains the choice."""

from __future__ import annotations

import torch

from core.models.cellcopy import (
    CellCopy,
    CellCopyConfig,
    compose,
    losses,
    read_offsets,
    read_palette,
    targets,
)
from gates.m9.data import play_mixed, windows

CFG = CellCopyConfig(width=16, moves=8, palette=24)  # small: the tests train it a few steps
STEPS = 40


def _puzzle(n: int = 4, steps: int = 12):
    return play_mixed("puzzle", 5, n, steps)


def test_the_puzzle_moves_are_whole_tiles() -> None:
    p = _puzzle()
    offs = read_offsets(p.frames[:, :-1].flatten(0, 1), p.frames[:, 1:].flatten(0, 1), 8, 8, 16)
    got = {tuple(o) for o in offs.tolist()}
    assert offs[0].tolist() == [0, 0]
    assert {(16, 0), (-16, 0), (0, 16), (0, -16)} <= got  # a 16-px cell pushed either way
    assert all(abs(dy) in (0, 16) and abs(dx) in (0, 16) for dy, dx in got)


def test_the_palette_is_the_frames_own_colours() -> None:
    p = _puzzle(2, 4)
    pal = read_palette(p.frames.flatten(0, 1), 64)
    colours = torch.unique(p.frames.reshape(-1, 3), dim=0)
    assert len(pal) == len(colours) and len(read_palette(p.frames.flatten(0, 1), 3)) == 3


def test_composing_the_right_choices_gives_the_next_frame() -> None:
    p = _puzzle()
    f = p.frames
    offs = read_offsets(f[:, :-1].flatten(0, 1), f[:, 1:].flatten(0, 1), 8, 8, 16)
    net = CellCopy(CFG, offs, read_palette(f.flatten(0, 1), 24))
    prev, nxt = f[:, 5], f[:, 6]  # [N, H, W, 3]
    right = targets(prev, nxt, net.offsets, CFG.cell, CFG.reach)  # [N, M+1, h, w]
    movable = right[:, :-1].any(1)
    choice = torch.where(movable, right[:, :-1].float().argmax(1), CFG.moves)  # first right move
    last = prev.permute(0, 3, 1, 2).float() / 255
    y = compose(net, last, choice, torch.zeros(len(prev), CFG.width, 32, 32))
    got = (y * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    cells = lambda x: x.view(-1, 32, 8, 32, 8, 3).permute(0, 1, 3, 2, 4, 5).flatten(3)  # noqa: E731
    same = (cells(got) == cells(nxt)).all(-1)  # [N, 32, 32]
    assert same[movable].all()  # every cell a move explains is reproduced bit for bit
    assert movable.float().mean() > 0.99


def test_an_untrained_model_is_copy_last() -> None:
    torch.manual_seed(0)
    f = _puzzle(2, 3).frames
    net = CellCopy(CFG, torch.tensor([[0, 0], [16, 0]]), read_palette(f.flatten(0, 1), 24))
    ctx = f[:, 1:3].permute(0, 1, 4, 2, 3).float() / 255  # [N, 2, 3, H, W]
    y = net.predict(ctx, torch.tensor([1, 3]), torch.zeros(2, 0))
    assert torch.equal(y, ctx[:, -1])


def test_the_loss_trains_the_moves() -> None:
    torch.manual_seed(0)
    p = _puzzle(8, 16)
    f = p.frames
    w = windows(p.fresh)[:8]
    offs = read_offsets(f[:, :-1].flatten(0, 1), f[:, 1:].flatten(0, 1), 8, 8, 16)
    net = CellCopy(CFG, offs, read_palette(f.flatten(0, 1), 24))
    e, t = w[:, 0], w[:, 1]
    ctx = torch.stack([f[e, t - 1], f[e, t]], 1).permute(0, 1, 4, 2, 3).float() / 255
    right = targets(f[e, t], f[e, t + 1], net.offsets, CFG.cell, CFG.reach)
    changed = ~right[:, 0]

    def moved_right() -> float:  # share of the changing cells whose chosen move reproduces them
        choice = net(ctx, p.actions[e, t])[0].argmax(1, keepdim=True)
        return float(right.gather(1, choice)[:, 0][changed].float().mean())

    assert changed.any() and moved_right() == 0.0  # untrained: everything stays
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(STEPS):
        lc, lp = losses(net, ctx, p.actions[e, t], f[e, t], f[e, t + 1], 1.0)
        opt.zero_grad()
        (lc + lp).backward()
        opt.step()
    assert torch.isfinite(lc) and moved_right() > 0.5
