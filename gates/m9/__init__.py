"""Gate m9 "genres" (functional-milestones, Milestone 8): a specialised world model per genre against a
general one of the same size and training budget.

Three built-in games, one genre each (core/games: the platformer, the box-pushing puzzle, the RPG), four
world models of one architecture (core/models/cellcopy.py): one trained on each game and one on all
three, with the same parameter count and the same optimizer steps and batch. From held-out starts (the
evaluation seed's levels, which training refuses; STARTS per game after a varied warm-up) each model
gets the game's two frames before the start and generates HORIZON frames under the game's own actions
(mostly its scripted policy), each fed back. The frames are judged by the games' decoders
(core/games/measures.py), never by the model:

- physics_accuracy (platformer): share of generated steps whose decoded player lies within 2 px of
  where the game's rules put it after the same actions.
- logic_consistency (puzzle): share of generated transitions that are one legal move of the decoded
  grid under the action (nothing moves that was not pushed, no box in a wall, counts conserved).
- state_management (rpg): share of generated frames whose HUD (HP, gold, keys, potions), minimap room
  and player cell all decode to the game's truth.
- gain_<genre>: 1 - error(specialised) / error(general) on the genre's measure, error = 1 - share. If
  the general model is as good, the gate says so and fails.
- beats_copy_last: each specialised model beats copy-last-frame on its measure by MARGIN.
- same_budget: the general model has the specialised ones' parameter count, steps and batch.

The game's own frames are measured the same way first: unless they score 1.0 the decoders are wrong
and the run is no verdict (exit 4). Steps after an episode reset are left out (a new level is drawn).

Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from gates.m9.spec import GAIN, LOGIC, PHYSICS, STATE
from shell.registry import Criterion as C
from shell.registry import Gate, lazy

GATE = Gate(
    "m9",
    "genres",
    "functional-milestones, Milestone 8",
    ("m2",),
    (
        C(
            "physics_accuracy",
            ">",
            PHYSICS,
            "",
            "platformer: decoded player where the rules put it",
        ),
        C("logic_consistency", ">", LOGIC, "", "puzzle: transitions that are legal moves"),
        C("state_management", ">=", STATE, "", "rpg: HUD, room and cell decoded as the truth"),
        C("gain_platformer", ">=", GAIN, "", "error below the general model's, relative"),
        C("gain_puzzle", ">=", GAIN, "", "error below the general model's, relative"),
        C("gain_rpg", ">=", GAIN, "", "error below the general model's, relative"),
        C("beats_copy_last", "==", 1, "", "each specialised model beats copy-last-frame"),
        C("same_budget", "==", 1, "", "general model: same parameters, steps and batch"),
    ),
    run=lazy("gates.m9.run:evaluate"),
    commands=lazy("gates.m9.train:add_train_verb"),
    config=lazy("gates.m9.config:M9Config"),
    summary="specialised models per genre beat a general one",
    default_backend="builtin",
)
