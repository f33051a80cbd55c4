"""Live play of a world model, the library behind `gate play`: keys in, generated frames out.

    player = Player.start(model, seed=0)          # the platformer's first frame as the only context
    frame = player.step(action)                   # uint8 [H, W, 3]: the model's next frame
    with Recorder(Path("session")) as rec: ...    # NNNNNN.png + actions.jsonl, renamed in at the end

`Player.step` is the reducer (context, action) -> (context, frame); the terminal loop and the headless
loop are the imperative shell around it. The game has no no-op action, so when no key is down the
player sends IDLE (DOWN: on the ground it brakes and crouches, the nearest thing to standing still).
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from shell.errors import BadInput

NAMES = ("UP", "DOWN", "LEFT", "RIGHT", "JUMP")  # the platformer's action order
LETTERS = {"U": 0, "D": 1, "L": 2, "R": 3, "J": 4}  # --keys: one letter a frame
KEYS = {"w": 0, "s": 1, "a": 2, "d": 3, " ": 4, "k": 4, "\x1b[A": 0, "\x1b[B": 1, "\x1b[D": 2,
        "\x1b[C": 3}  # fmt: skip
IDLE = 1  # DOWN when no key is down (see the module docstring)
HOLD_S = 0.12  # a key counts as down this long after its last repeat (terminals repeat at ~30 Hz)
MAX_KEYS = 100_000  # scripted frames: ~1 h at 30 FPS


def parse_keys(text: str) -> list[int]:
    """--keys "RRRRJJJD" (U D L R J, one a frame; spaces ignored) or "RIGHT*8,JUMP*3" -> actions."""
    out: list[int] = []
    for i, part in enumerate(p.strip() for p in text.split(",")):
        name, _, times = part.partition("*")
        if name.upper() in NAMES:
            if times and not (times.isdigit() and 0 < int(times) <= MAX_KEYS):
                raise BadInput(
                    f"--keys item {i + 1} '{part}': the count after * must be 1..{MAX_KEYS}"
                )
            out += [NAMES.index(name.upper())] * (int(times) if times else 1)
            continue
        for j, ch in enumerate(part.replace(" ", "")):
            if ch.upper() not in LETTERS:
                raise BadInput(f"--keys item {i + 1} character {j + 1} '{ch}': use U D L R J or "
                               "UP/DOWN/LEFT/RIGHT/JUMP*N")  # fmt: skip
            out.append(LETTERS[ch.upper()])
        if len(out) > MAX_KEYS:
            raise BadInput(f"--keys: more than {MAX_KEYS} frames")
    if not out:
        raise BadInput("--keys: no action given")
    return out


@dataclass
class Player:
    model: Any
    context: Any  # float [1, K, 3, H, W] in [0, 1]
    gen: Any  # torch.Generator: the session's noise stream
    device: Any
    frame: int = 0

    @classmethod
    def start(cls, model: Any, first: Any, seed: int, device: Any) -> Player:
        """first: uint8 [H, W, 3] (numpy or torch), the only frame of context."""
        import torch

        from core.metrics import to_unit
        from core.models.protocols import one_frame_context

        x = to_unit(torch.as_tensor(first)[None]).to(device)  # [1, 3, H, W]
        ctx = one_frame_context(x, model.context_frames)  # [1, K, 3, H, W]
        return cls(model, ctx, torch.Generator().manual_seed(seed), device)

    def step(self, action: int) -> Any:
        import torch

        from core.metrics import to_frames
        from core.models.protocols import slide

        a = torch.tensor([action], dtype=torch.int64, device=self.device)
        z = torch.randn(1, self.model.noise_dim, generator=self.gen).to(self.device)
        with torch.no_grad():
            y = self.model.predict(self.context, a, z).float().clamp(0, 1)  # [1, 3, H, W]
        self.context = slide(self.context, y)
        self.frame += 1
        return to_frames(y.cpu())[0]  # uint8 [H, W, 3]


@dataclass
class Recorder:
    """A session as a recording `gate data import` reads (shell/recordings.py): 000000.png (the start),
    000001.png ..., actions.jsonl (one line per step: {"t", "action", "name"}), meta.json. Written to
    DIR.partial and renamed to DIR at the end, so an interrupted session never leaves a half-written
    DIR."""

    path: Path
    meta: dict[str, Any] = field(default_factory=dict)

    def check(self) -> Recorder:
        """Refuse a folder that exists or has no parent before anything loads."""
        if self.path.exists():
            raise BadInput(f"--record {self.path}: exists (choose a new folder)")
        if not self.path.parent.is_dir():
            raise BadInput(f"--record {self.path}: no folder {self.path.parent}")
        return self

    def __enter__(self) -> Recorder:
        self.check()
        self.tmp = self.path.with_name(self.path.name + ".partial")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir()
        self.actions = open(self.tmp / "actions.jsonl", "wb")  # noqa: SIM115 - closed in __exit__
        self.n = 0
        return self

    def frame(self, img: Any) -> None:
        from PIL import Image

        Image.fromarray(img.numpy() if hasattr(img, "numpy") else img).save(
            self.tmp / f"{self.n:06d}.png"
        )
        self.n += 1

    def step(self, a: int, img: Any) -> None:
        """Action a, taken after the frames so far, and the frame it produced."""
        self.actions.write(orjson.dumps({"t": self.n - 1, "action": a, "name": NAMES[a]}) + b"\n")
        self.frame(img)

    def __exit__(self, *exc: Any) -> None:
        self.actions.close()
        if exc[0] is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        meta = {**self.meta, "frames": self.n, "actions": self.n - 1, "action_names": list(NAMES)}
        (self.tmp / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
        os.replace(self.tmp, self.path)


def play_scripted(player: Player, actions: list[int], rec: Recorder | None) -> dict[str, float]:
    """Headless: one generated frame per scripted action. -> frames, seconds, fps."""
    t0 = time.perf_counter()
    for a in actions:
        img = player.step(a)
        if rec is not None:
            rec.step(a, img)
    secs = time.perf_counter() - t0
    return {"frames": len(actions), "seconds": secs, "fps": len(actions) / max(secs, 1e-9)}


def play_terminal(
    player: Player, rec: Recorder | None, max_fps: float, cols: int = 64
) -> dict[str, float]:
    """Live in this terminal: WASD or arrows, space or k to jump, q to quit; the frame drawn with
    half-block characters in 24-bit colour, the FPS on the status line."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    held: dict[int, float] = {}
    n, t0, out = 0, time.perf_counter(), sys.stdout
    try:
        tty.setcbreak(fd)
        out.write("\x1b[2J\x1b[?25l")
        while True:
            tick = time.perf_counter()
            while select.select([sys.stdin], [], [], 0)[0]:
                chunk = os.read(fd, 64).decode("utf-8", "replace")
                if "q" in chunk or "\x03" in chunk:
                    raise KeyboardInterrupt
                for key, a in KEYS.items():
                    if key in chunk:
                        held[a] = tick
            down = [a for a, t in held.items() if tick - t < HOLD_S]
            a = max(down, key=lambda k: held[k]) if down else IDLE
            img = player.step(a)
            if rec is not None:
                rec.step(a, img)
            n += 1
            fps = n / max(time.perf_counter() - t0, 1e-9)
            out.write("\x1b[H" + half_blocks(img, cols) + f"\n{NAMES[a]:<6} frame {n}  {fps:5.1f} FPS  "
                      "(WASD/arrows, space: jump, q: quit)\x1b[K")  # fmt: skip
            out.flush()
            wait = 1.0 / max_fps - (time.perf_counter() - tick)
            if wait > 0:
                time.sleep(wait)
    except KeyboardInterrupt:
        pass
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
        out.write("\x1b[?25h\n")
    secs = time.perf_counter() - t0
    return {"frames": n, "seconds": secs, "fps": n / max(secs, 1e-9)}


def half_blocks(img: Any, cols: int) -> str:
    """uint8 [H, W, 3] -> cols x cols/2 characters: each '▀' shows two pixels (upper in the foreground
    colour, lower in the background), average-pooled from the frame."""
    import torch.nn.functional as F

    x = img.permute(2, 0, 1).float()[None]  # [1, 3, H, W]
    k = max(1, img.shape[1] // cols)
    y = F.avg_pool2d(x, k)[0].round().byte().permute(1, 2, 0).tolist()  # [h, w, 3]
    lines = []
    for r in range(0, len(y) - 1, 2):
        cells = (f"\x1b[38;2;{a[0]};{a[1]};{a[2]}m\x1b[48;2;{b[0]};{b[1]};{b[2]}m▀"
                 for a, b in zip(y[r], y[r + 1], strict=True))  # fmt: skip
        lines.append("".join(cells) + "\x1b[0m")
    return "\n".join(lines)
