"""The rooms of roms/worldgate.gb as data, for test writers and trace designers.

Coordinates are (x, y) in tiles, (0, 0) top left; the screen is 20 x 18 tiles and the sprite of the
player at tile (x, y) has its top-left pixel at (8 * x, 8 * y). Tests check that these grids are the
bytes the ROM draws. The action codec is pokemonred_puffer_v0 (0=A 1=B 2=START 3=UP 4=DOWN 5=LEFT
6=RIGHT); one step = press 8 frames, release, 16 more frames (24 frames).
"""

WIDTH, HEIGHT = 20, 18

# Character in the grids -> tile number in VRAM; WALKABLE lists what the player may step onto.
TILES = {".": 0, "#": 1, "D": 2, "~": 3, ",": 4, "*": 5}
WALKABLE = frozenset(".,D")

ROOM1 = (
    "####################",
    "#..................#",
    "#..~~~.............#",
    "#..~~~.......##....#",
    "#............##....#",
    "#..................#",
    "#.....####.........#",
    "#..................#",
    "#.........#........D",
    "#.........#........#",
    "#.........#........#",
    "#.........#........#",
    "#..................#",
    "#...##.............#",
    "#...##........~~...#",
    "#..................#",
    "#..................#",
    "####################",
)

ROOM2 = (
    "####################",
    "#,,,,,,,,,,,,,,,,,,#",
    "#,~~,,,,,,,,,,,,~~,#",
    "#,~~,,,,,,,,,,,,~~,#",
    "#,,,,,,######,,,,,,#",
    "#,,,,,,,,,,,,,,,,,,#",
    "#,,,,,,,****,,,,,,,#",
    "#,,,#,,,*,,*,,,#,,,#",
    "D,,,#,,,*,,*,,,#,,,#",
    "#,,,#,,,*,,*,,,#,,,#",
    "#,,,,,,,****,,,,,,,#",
    "#,,,,,,,,,,,,,,,,,,#",
    "#,,,,,,######,,,,,,#",
    "#,,,,,,,,,,,,,,,,,,#",
    "#,~~,,,,,,,,,,,,~~,#",
    "#,~~,,,,,,,,,,,,~~,#",
    "#,,,,,,,,,,,,,,,,,,#",
    "####################",
)

# Where the player stands after boot, the door tiles, and where each door leads (room, x, y).
ROOMS = {
    1: {"grid": ROOM1, "start": (2, 9), "door": (19, 8), "door_to": (2, 1, 8)},
    2: {"grid": ROOM2, "start": (1, 8), "door": (0, 8), "door_to": (1, 18, 8)},
}

# The menu: START opens it in the window layer (bottom 6 tile rows, from y = MENU_TOP_PX); B closes it.
MENU_TOP_PX = 96
MENU_LINES = ("  WORLDGATE MENU  ", "", "  ITEMS    MAP    ", "  B CLOSE         ")

# Idle frames to tick after power-on before the first step: PyBoy's boot ROM plus our RAM clear end
# near frame 75 (room 1 drawn, input read); 120 leaves margin.
BOOT_FRAMES = 120

# From room 1's start, the shortest route onto room 1's door; the room-2 screen is drawn and faded in
# within the step that lands on the door. RIGHT 7, UP 2, RIGHT 9, DOWN 1, RIGHT 1.
ROUTE_TO_ROOM2 = (6,) * 7 + (3,) * 2 + (6,) * 9 + (4,) + (6,)
