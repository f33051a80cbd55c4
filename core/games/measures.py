"""Gate m9's per-genre measures of a clip of frames, as pure functions (the gate itself is not built).

    physics_accuracy(frames, truth_xy, valid)          # platformer: player where the rules put it
    logic_consistency(frames, actions, valid)          # puzzle: every transition one legal move
    state_management(frames, truth, valid)             # rpg: HUD and room/cell as in the truth

Each takes a clip of uint8 RGB frames [N, T, 256, 256, 3] (a model's rollout, or the game's own
frames), decodes it with the game's decoder, and returns (share, ok): ok bool [N, T'] per judged step,
share the fraction of valid judged steps that are ok (a float in 0..1). `valid` (bool, the shape of ok)
leaves steps out, e.g. those next to an episode reset (the game restarts in `step`, which no model is
asked to foresee); None judges every step.

Platformer physics: the player's motion is deterministic given the previous state and the action (only
enemies turn at random), so the position the rules allow at step t is the real game's position after
the same actions: the measure decodes the player (locate_player: the centroid of PLAYER_RGB pixels) and
counts a step right when it lies within `tol` px of that position in the 256x256 frame (a missing player
is wrong). Puzzle logic: transition t -> t+1 is legal when both frames decode to well-formed maps and
the rules (core/games/puzzle_rules.py) applied to the first under action t give the second (nothing
moves that was not pushed, boxes never enter walls, counts are conserved). RPG state: frame t is right
when its HUD (HP, gold, keys, potions), minimap room and player cell all decode to the truth.
"""

from __future__ import annotations

import torch

from core.games.platformer_render import locate_player
from core.games.puzzle_decode import decode_grid, legal_transition
from core.games.puzzle_rules import Grid
from core.games.rpg_decode import FIELDS, decode_frame, hud_matches

CHUNK = 64  # frames decoded at once: bounds the float copies the tile classifier makes


def _share(ok: torch.Tensor, valid: torch.Tensor | None) -> float:
    m = torch.ones_like(ok) if valid is None else valid.to(ok.device).bool()
    n = int(m.sum())
    return float((ok & m).sum()) / n if n else float("nan")


def _flat(frames: torch.Tensor) -> torch.Tensor:
    if frames.dim() != 5 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
        raise ValueError(
            f"frames: expected uint8 [N, T, H, W, 3], got {frames.dtype} {tuple(frames.shape)}"
        )
    return frames.reshape(-1, *frames.shape[2:])  # [N*T, H, W, 3]


def physics_accuracy(
    frames: torch.Tensor,
    truth_xy: torch.Tensor,
    valid: torch.Tensor | None = None,
    tol: float = 2.0,  # px: the drawn sprite is whole-pixel, locate_player is within 1 px of the truth
) -> tuple[float, torch.Tensor]:
    """Platformer. frames uint8 [N, T, 256, 256, 3]; truth_xy float [N, T, 2] the game's screen_x,
    screen_y after the same actions. ok[n, t]: the decoded player within tol px on both axes."""
    n, t = frames.shape[:2]
    flat = _flat(frames)
    loc = torch.cat([locate_player(flat[i : i + CHUNK]) for i in range(0, len(flat), CHUNK)])
    loc = loc.view(n, t, 2)
    err = (loc - truth_xy.to(loc.device).float()).abs()  # [N, T, 2]; NaN where no player
    ok = (err <= tol).all(-1)  # NaN compares False: a missing player is wrong
    return _share(ok, valid), ok


def _grids(frames: torch.Tensor) -> tuple[Grid, torch.Tensor]:
    flat = _flat(frames)
    parts = [decode_grid(flat[i : i + CHUNK]) for i in range(0, len(flat), CHUNK)]
    fields = {f: torch.cat([getattr(g, f) for g, _ in parts]) for f in vars(parts[0][0])}
    return Grid(**fields), torch.cat([ok for _, ok in parts])


def _select(g: Grid, idx: torch.Tensor) -> Grid:
    return Grid(**{f: v[idx] for f, v in vars(g).items()})


def logic_consistency(
    frames: torch.Tensor, actions: torch.Tensor, valid: torch.Tensor | None = None
) -> tuple[float, torch.Tensor]:
    """Puzzle. frames uint8 [N, T+1, 256, 256, 3]; actions int64 [N, T] (action t leads from frame t
    to t+1). ok[n, t]: transition t -> t+1 is one legal move under action t."""
    n, t1 = frames.shape[:2]
    g, ok_frame = _grids(frames)
    k = torch.arange(n * t1, device=ok_frame.device).view(n, t1)
    before, after = k[:, :-1].reshape(-1), k[:, 1:].reshape(-1)  # [N*T]
    a = actions.to(ok_frame.device).reshape(-1).long()
    legal = legal_transition(_select(g, before), _select(g, after), a)
    ok = (legal & ok_frame[before] & ok_frame[after]).view(n, t1 - 1)
    return _share(ok, valid), ok


def state_management(
    frames: torch.Tensor, truth: dict[str, torch.Tensor], valid: torch.Tensor | None = None
) -> tuple[float, torch.Tensor]:
    """RPG. frames uint8 [N, T, 256, 256, 3]; truth: the game's info values [N, T] for FIELDS (hp,
    gold, keys, potions, room, player_row, player_col). ok[n, t]: every one decodes to the truth."""
    n, t = frames.shape[:2]
    flat = _flat(frames)
    ok = torch.cat([
        hud_matches(
            decode_frame(flat[i : i + CHUNK]),
            {f: torch.as_tensor(truth[f]).reshape(-1)[i : i + CHUNK] for f in FIELDS},
        )
        for i in range(0, len(flat), CHUNK)
    ]).view(n, t)  # fmt: skip
    return _share(ok, valid), ok
