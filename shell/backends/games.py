"""The games a backend knows, listed without starting an emulator, and "did you mean" for a wrong name.

`gate backends --games NAME` prints them; the train verbs and `gate data collect` check `--game` here
before a run starts, so a typo is exit 2 in well under a second with the nearest names.
"""

from __future__ import annotations

import difflib


def games(backend: str) -> list[str] | None:
    """Every game id of a backend, sorted; None when the backend has no fixed list (gym, pyboy) or its
    package is missing."""
    if backend == "ale":
        import importlib.util

        if importlib.util.find_spec("ale_py") is None:
            return None
        from ale_py import roms

        return sorted(roms.get_all_rom_ids())
    if backend == "builtin":
        from core.games import GAMES

        return sorted(GAMES)
    return None


def unknown(game: str, known: list[str], backend: str, what: str = "game") -> str:
    """The message for a game id not in `known`: the nearest names and where the full list is."""
    key = game.lower().replace("_", "").replace("-", "").replace(" ", "")
    exact = [k for k in known if k.replace("_", "") == key]
    near = exact or difflib.get_close_matches(game.lower(), known, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(near)}? " if near else ""
    return (
        f"option game: unknown {what} {game!r}; {hint}"
        f"(`gate backends --games {backend}` lists all {len(known)})"
    )


def check_game(backend: str | None, game: str | None) -> None:
    """BadInput (exit 2) when `game` is not one of the backend's games; nothing when it cannot tell."""
    from shell.errors import BadInput

    if backend is None or game is None:
        return
    known = games(backend)
    if known is not None and game not in known:
        raise BadInput(f"backend {backend}: {unknown(game, known, backend)}")
