"""roms/worldgate.gb played in real PyBoy (headless): movement, walls, animation, menu, door, rooms.

Tests may read RAM and VRAM to check what they see; the gates will not.
"""

import io
from pathlib import Path

import numpy as np
import pytest

from core.gb import layout
from core.gbheader import build_rom_image
from shell.rom import TITLE, rom_source

pyboy = pytest.importorskip("pyboy")

ROM = Path(__file__).resolve().parents[1] / "roms" / "worldgate.gb"
BUTTONS = ("a", "b", "start", "up", "down", "left", "right")  # pokemonred_puffer_v0 order
A, B, START, UP, DOWN, LEFT, RIGHT = range(7)
SYM = build_rom_image(rom_source(), TITLE)[1].symbols


class Game:
    def __init__(self, state: bytes):
        self.pb = pyboy.PyBoy(str(ROM), window="null", sound_emulated=False)
        self.pb.load_state(io.BytesIO(state))

    def step(self, action: int) -> None:
        """One harness step: press 8 frames, release, 16 more frames."""
        self.pb.button_press(BUTTONS[action])
        self.pb.tick(8, True)
        self.pb.button_release(BUTTONS[action])
        self.pb.tick(16, True)

    def idle(self, frames: int) -> None:
        self.pb.tick(frames, True)

    def screen(self) -> np.ndarray:
        return np.array(self.pb.screen.ndarray[:, :, :3], copy=True)

    def sprite_px(self) -> tuple[int, int]:
        return self.pb.memory[0xFE01] - 8, self.pb.memory[0xFE00] - 16

    def tile_pos(self) -> tuple[int, int]:
        return self.pb.memory[SYM["wPlayerX"]], self.pb.memory[SYM["wPlayerY"]]

    def bg_map(self) -> tuple[str, ...]:
        inv = {v: k for k, v in layout.TILES.items()}
        row = lambda y: "".join(inv[self.pb.memory[0x9800 + 32 * y + x]] for x in range(20))  # noqa: E731
        return tuple(row(y) for y in range(layout.HEIGHT))


@pytest.fixture(scope="module")
def boot_state() -> bytes:
    pb = pyboy.PyBoy(str(ROM), window="null", sound_emulated=False)
    pb.tick(layout.BOOT_FRAMES, True)
    buf = io.BytesIO()
    pb.save_state(buf)
    pb.stop(save=False)
    return buf.getvalue()


@pytest.fixture
def game(boot_state):
    g = Game(boot_state)
    yield g
    g.pb.stop(save=False)


def test_boots_into_room_1(game):
    assert game.bg_map() == layout.ROOM1
    x, y = layout.ROOMS[1]["start"]
    assert game.tile_pos() == (x, y) and game.sprite_px() == (8 * x, 8 * y)
    scr = game.screen()
    assert (scr[:8, :, :] < 128).any() and (scr[8 * y : 8 * y + 8, 8 * x : 8 * x + 8] < 64).any()
    assert len(np.unique(scr.reshape(-1, 3), axis=0)) == 4  # all four shades in use


def test_right_press_moves_one_tile(game):
    x0, y0 = game.sprite_px()
    before = game.screen()
    game.step(RIGHT)
    assert game.sprite_px() == (x0 + 8, y0)
    game.idle(64 - 24)  # same animation phase as `before`
    changed = np.argwhere((game.screen() != before).any(axis=2))
    assert changed.size and changed[:, 0].min() >= y0 and changed[:, 0].max() < y0 + 8


def test_walls_stop_the_player(game):
    game.step(LEFT)
    assert game.tile_pos() == (1, 9)
    game.step(LEFT)  # (0, 9) is the border wall
    assert game.tile_pos() == (1, 9)
    for _ in range(8):
        game.step(RIGHT)
    assert game.tile_pos() == (9, 9)
    game.step(RIGHT)  # (10, 9) is an inner wall
    assert game.tile_pos() == (9, 9)


def test_idle_frames_are_animated(game):
    a = game.screen()
    game.idle(16)
    b = game.screen()
    game.idle(16)
    c = game.screen()
    assert (a != b).any() and (b != c).any() and (a != c).any()
    game.idle(32)
    assert (game.screen() == a).all()  # four phases of 16 frames


def test_menu_opens_in_the_window_and_b_closes_it(game):
    before, pos = game.screen(), game.tile_pos()
    game.step(START)
    menu = game.screen()
    assert game.pb.memory[0xFF40] & 0x20
    assert (menu[layout.MENU_TOP_PX :] != before[layout.MENU_TOP_PX :]).any(axis=2).mean() > 0.2
    for action in (RIGHT, UP, LEFT, DOWN, A):
        game.step(action)
    assert game.tile_pos() == pos
    assert (game.screen()[layout.MENU_TOP_PX :] == menu[layout.MENU_TOP_PX :]).all()
    game.step(B)
    assert not game.pb.memory[0xFF40] & 0x20
    game.idle((-(7 * 24)) % 64)  # back to the animation phase of `before`
    assert (game.screen() == before).all()


def _walk_to_room_2(game) -> np.ndarray:
    room1 = game.screen()
    for action in layout.ROUTE_TO_ROOM2:
        game.step(action)
    return room1


def test_route_reaches_room_2_and_walks_out_again(game):
    room1 = _walk_to_room_2(game)
    assert game.bg_map() == layout.ROOM2
    assert game.tile_pos() == layout.ROOMS[2]["start"]
    assert game.pb.memory[0xFF47] == 0xE4  # the fade in finished within the door step
    room2 = game.screen()
    assert (room2 != room1).any(axis=2).mean() > 0.15  # grass, stars, other walls
    game.step(LEFT)
    assert game.bg_map() == layout.ROOM1
    assert game.tile_pos() == layout.ROOMS[2]["door_to"][1:]
    game.step(RIGHT)
    assert game.bg_map() == layout.ROOM2


def test_door_fades_through_white(game):
    for action in layout.ROUTE_TO_ROOM2[:-1]:
        game.step(action)
    game.pb.button_press("right")
    palettes = []
    for _ in range(24):
        game.pb.tick(1, True)
        palettes.append(game.pb.memory[0xFF47])
    assert 0x00 in palettes and palettes[-1] == 0xE4
    assert {0x90, 0x40} <= set(palettes)


def test_replay_is_deterministic(boot_state):
    shots = []
    for _ in range(2):
        g = Game(boot_state)
        _walk_to_room_2(g)
        g.step(B)
        shots.append(g.screen())
        g.pb.stop(save=False)
    assert (shots[0] == shots[1]).all()
