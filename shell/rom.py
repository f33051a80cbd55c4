"""The project's own Game Boy ROM: its source (shipped in core/gb), building it, writing it."""

from __future__ import annotations

import hashlib
import os
from importlib import resources

from core.gbheader import build_rom_image
from shell.atomic import write_bytes_atomic

TITLE = "WORLDGATE"
ROM_NAME = "worldgate.gb"


def rom_source() -> str:
    return resources.files("core.gb").joinpath("worldgate.asm").read_text(encoding="utf-8")


def build_rom() -> bytes:
    return build_rom_image(rom_source(), TITLE)[0]


def write_rom(path: str | os.PathLike[str]) -> str:
    """Build the ROM and write it to `path` atomically; returns its sha256 hex digest."""
    data = build_rom()
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()
