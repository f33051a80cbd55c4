"""Gate m7 "horizon" (functional-milestones, Milestone 6): 900 coherent frames with a memory.

From the first frame of ROUTES held-out levels (the evaluation seed's), the world model generates
FRAMES frames under a LoopNav-style route played in the game (gates/m7/spec.py): the scripted policy
runs right for OUT frames, core.games.platformer_routes.back_policy runs back left past the start for
BACK frames, then right again. A model that keeps memory beyond its frame context speaks the recurrent
protocol (core/models/protocols.py: begin, step); any other is stepped through its context alone. The
frames are judged from the pixels, each measure taken on the game's own clips first (they must score
perfectly, or the run is void: exit 4) and on copy-last beside:

- final_in_range: share of the last FINAL frames whose mean colour, contrast, palette share and decoded
  player lie within the game's range over all its frames (no drift at 30 s).
- camera_track: mean |the model's camera - the game's|, px; each camera read off consecutive frames
  (the whole-frame shift in the game's 4-px steps), summed from the start.
- revisit_match: frames at a camera position seen before, after the view went a screen away: the
  share of the pixels the game keeps still between the two visits that the model also keeps (its
  revisit against its own first visit).
- return_match: back at the start view, the share of the pixels still since frame 0 in the game that
  the model shows as the game does (the truth is fixed there by what the model was shown).
- permanence: the start view's 16x16 cells with a coin, on the return: present or collected as in the
  game (coins touched on the way are gone, the others still there).
- no_teleports: share of the player's decoded moves from frame to frame within STEP_PX.

Pictures: m7_drift.png (curves over the 900 frames), m7_revisit.png (first visit, revisit, the game),
m7_route.gif (a subsampled route, the game beside the model).
Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from gates.m7.spec import CAMERA_PX, IN_RANGE, MATCH, NO_TELEPORT, PERMANENCE
from shell.registry import Criterion as C
from shell.registry import Gate, lazy

GATE = Gate(
    "m7",
    "horizon",
    "functional-milestones, Milestone 6",
    ("m6",),
    (
        C("final_in_range", ">=", IN_RANGE, "", "the last second's frames within the game's range"),
        C("camera_track", "<=", CAMERA_PX, "px", "the model's camera where the game's is"),
        C("revisit_match", ">=", MATCH, "", "a revisited view as the model first showed it"),
        C(
            "return_match",
            ">=",
            MATCH,
            "",
            "back at the start, the start view as the game shows it",
        ),
        C(
            "permanence",
            ">=",
            PERMANENCE,
            "",
            "start-view coins present or collected as in the game",
        ),
        C("no_teleports", ">=", NO_TELEPORT, "", "the player's moves within the game's limits"),
    ),
    run=lazy("gates.m7.run:evaluate"),
    config=lazy("gates.m7.config:M7Config"),
    summary="900 coherent frames with a memory",
    default_backend="builtin",
)
