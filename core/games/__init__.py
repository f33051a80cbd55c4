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


GAMES: dict[str, GameSpec] = {
    "platformer": GameSpec(
        id="platformer",
        actions=platformer.ACTIONS,
        params=platformer.PARAMS,
        reset=platformer.reset,
        step=platformer.step,
        render_rgb=platformer.render_rgb,
        render_screen=platformer.render_screen,
        render_shades=platformer.render_shades,
        scripted_policy=platformer.scripted_policy,
        random_policy=platformer.random_policy,
        locate_player=platformer.locate_player,
        player_rgb=platformer.PLAYER_RGB,
        info_keys=platformer.INFO_KEYS,
    ),
    "puzzle": GameSpec(
        id="puzzle",
        actions=puzzle.ACTIONS,
        params=puzzle.PARAMS,
        reset=puzzle.reset,
        step=puzzle.step,
        render_rgb=puzzle.render_rgb,
        render_screen=puzzle.render_screen,
        render_shades=puzzle.render_shades,
        scripted_policy=puzzle.scripted_policy,
        random_policy=puzzle.random_policy,
        locate_player=puzzle.locate_player,
        player_rgb=puzzle.PLAYER_RGB,
        info_keys=puzzle.INFO_KEYS,
    ),
    "rpg": GameSpec(
        id="rpg",
        actions=rpg.ACTIONS,
        params=rpg.PARAMS,
        reset=rpg.reset,
        step=rpg.step,
        render_rgb=rpg.render_rgb,
        render_screen=rpg.render_screen,
        render_shades=rpg.render_shades,
        scripted_policy=rpg.scripted_policy,
        random_policy=rpg.random_policy,
        locate_player=rpg.locate_player,
        player_rgb=rpg.PLAYER_RGB,
        info_keys=rpg.INFO_KEYS,
    ),
}


def get_game(name: str) -> GameSpec:
    """The registered game `name`; KeyError naming the known ids otherwise."""
    try:
        return GAMES[name]
    except KeyError:
        raise KeyError(f"unknown game {name!r}; known: {', '.join(sorted(GAMES))}") from None
