"""The project's own Game Boy ROM: its source (shipped in core/gb), building it, writing it."""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib import resources
from pathlib import Path

from core.gbheader import build_rom_image

TITLE = "WORLDGATE"
ROM_NAME = "worldgate.gb"


def rom_source() -> str:
    return resources.files("core.gb").joinpath("worldgate.asm").read_text(encoding="utf-8")


def build_rom() -> bytes:
    return build_rom_image(rom_source(), TITLE)[0]


def write_rom(path: str | os.PathLike[str]) -> str:
    """Build the ROM and write it to `path` atomically; returns its sha256 hex digest."""
    data, target = build_rom(), Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a ROM is an ordinary readable file
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()
