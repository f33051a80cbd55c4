"""The README's pictures of the built-in grid games: for each, the 256x256 render, the 144x160 screen and
the 72x80 shades (drawn 2x, DMG greens), side by side, after a few scripted moves.

    uv run python bench/game_pictures.py [--out docs/games] [--seed 0] [--steps 12]

Writes <out>/puzzle.png and <out>/rpg.png (deterministic: the same seed gives the same bytes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

from core.games import get_game

DMG = ((224, 248, 208), (136, 192, 112), (52, 104, 86), (8, 24, 32))  # shade 0 (light) .. 3 (dark)


def picture(game_id: str, seed: int, steps: int) -> Image.Image:
    g = get_game(game_id)
    s = g.reset(seed, 1, "cpu")
    for i in range(steps):
        s, _ = g.step(s, g.scripted_policy(s, i))
    rgb = g.render_rgb(s)[0].numpy()  # [256, 256, 3]
    screen = g.render_screen(s)[0].numpy()  # [144, 160, 3]
    shades = g.render_shades(s)[0]  # [72, 80] in 0..3
    dmg = torch.tensor(DMG, dtype=torch.uint8)[shades.long()]  # [72, 80, 3]
    dmg = dmg.repeat_interleave(2, 0).repeat_interleave(2, 1).numpy()  # [144, 160, 3]
    pad = 8
    out = Image.new("RGB", (256 + 160 * 2 + pad * 4, 256 + pad * 2), (255, 255, 255))
    out.paste(Image.fromarray(rgb), (pad, pad))
    out.paste(Image.fromarray(screen), (256 + pad * 2, pad))
    out.paste(Image.fromarray(dmg), (256 + 160 + pad * 3, pad))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("docs/games"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=12)
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    for game_id in ("puzzle", "rpg"):
        path = args.out / f"{game_id}.png"
        picture(game_id, args.seed, args.steps).save(path)
        print(path)


if __name__ == "__main__":
    main()
