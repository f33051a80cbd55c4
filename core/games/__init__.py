"""Built-in games as pure torch functions, registered by id.

Each `GameSpec` bundles a game's functions and constants so callers (the built-in backend, gates,
benchmarks, tests) can drive any game the same way:

    game = get_game("platformer")
    state = game.reset(seed, n, device)
    state, info = game.step(state, actions)      # actions: int64 [N] in 0..len(game.actions)-1
    obs = game.render_shades(state)              # uint8 [N, 72, 80] in 0..3

The games: "platformer" (a side-scroller with physics), "puzzle" (box pushing with keys and doors),
"rpg" (rooms, items, chests, an NPC and a HUD). Each module's docstring says how its actions map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.games import platformer, puzzle, rpg


@dataclass(frozen=True)
class GameSpec:
    id: str
    actions: tuple[str, ...]  # index -> name, in order
    params: Any  # the game's frozen dataclass of constants
    reset: Callable[..., Any]  # (seed: int, n: int, device) -> State
    step: Callable[..., tuple[Any, dict[str, Any]]]  # (state, actions int64 [N]) -> (state, info)
    render_rgb: Callable[..., Any]  # (state, out=None) -> uint8 [N, 256, 256, 3]
    render_screen: Callable[..., Any]  # (state, out=None) -> uint8 [N, 144, 160, 3]
    render_shades: Callable[..., Any]  # (state, out=None) -> uint8 [N, 72, 80] in 0..3
    #   out: a frame the same function returned before, whose memory is reused
    scripted_policy: Callable[..., Any]  # (state, key) -> int64 [N]
    random_policy: Callable[..., Any]  # (state, key) -> int64 [N]
    locate_player: Callable[..., Any]  # uint8 [N, H, W, 3] -> float [N, 2] (x, y), NaN if absent
    player_rgb: tuple[int, int, int]
    info_keys: dict[str, str]  # what step's info holds: key -> dtype, shape, meaning
    rgb_shape: tuple[int, int, int] = (256, 256, 3)
    screen_shape: tuple[int, int, int] = (144, 160, 3)
    shade_shape: tuple[int, int] = (72, 80)


def spec_of(game_id: str, module: Any) -> GameSpec:
    """A game module's GameSpec: each game module exports the same names (ACTIONS, PARAMS, reset,
    step, the three renders, the two policies, locate_player, PLAYER_RGB, INFO_KEYS)."""
    return GameSpec(
        id=game_id,
        actions=module.ACTIONS,
        params=module.PARAMS,
        reset=module.reset,
        step=module.step,
        render_rgb=module.render_rgb,
        render_screen=module.render_screen,
        render_shades=module.render_shades,
        scripted_policy=module.scripted_policy,
        random_policy=module.random_policy,
        locate_player=module.locate_player,
        player_rgb=module.PLAYER_RGB,
        info_keys=module.INFO_KEYS,
    )


GAMES: dict[str, GameSpec] = {
    name: spec_of(name, module)
    for name, module in (("platformer", platformer), ("puzzle", puzzle), ("rpg", rpg))
}


def get_game(name: str) -> GameSpec:
    """The registered game `name`; KeyError naming the known ids otherwise."""
    try:
        return GAMES[name]
    except KeyError:
        raise KeyError(f"unknown game {name!r}; known: {', '.join(sorted(GAMES))}") from None
