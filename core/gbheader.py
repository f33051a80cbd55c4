"""The Game Boy cartridge header (0x100-0x14F) and checksums, and ROM building on top of sm83."""

from __future__ import annotations

from core.sm83 import ROM_SIZE, Assembly, assemble

# The boot ROM compares these 48 bytes (the logo it scrolls) with 0x104-0x133 and locks up on mismatch.
NINTENDO_LOGO = bytes.fromhex(
    "CEED6666CC0D000B03730083000C000D0008111F8889000EDCCC6EE6DDDDD999"
    "BBBB67636E0EECCCDDDC999FBBB9333E"
)
HEADER = range(0x104, 0x150)  # logo .. global checksum: the assembler's source must leave it free
TITLE_MAX = 15  # 0x134-0x142; 0x143 is the CGB flag, kept 0x00 (DMG only)


class HeaderError(ValueError):
    pass


def header_checksum(rom: bytes) -> int:
    x = 0
    for b in rom[0x134:0x14D]:
        x = (x - b - 1) & 0xFF
    return x


def global_checksum(rom: bytes) -> int:
    return (sum(rom) - rom[0x14E] - rom[0x14F]) & 0xFFFF


def fill_header(rom: bytes, title: str) -> bytes:
    """`rom` with logo, title, ROM-only 32 KiB cartridge fields and both checksums in place."""
    if len(rom) != ROM_SIZE:
        raise HeaderError(f"a ROM-only cartridge is {ROM_SIZE} bytes, not {len(rom)}")
    if len(title) > TITLE_MAX or not title.isascii() or not title.isprintable():
        raise HeaderError(
            f"title must be at most {TITLE_MAX} printable ASCII characters: {title!r}"
        )
    out = bytearray(rom)
    out[0x104:0x134] = NINTENDO_LOGO
    out[0x134:0x144] = title.upper().encode("ascii").ljust(16, b"\x00")
    out[0x144:0x146] = b"00"  # new licensee code: none
    out[0x146] = 0x00  # no SGB functions
    out[0x147] = 0x00  # cartridge type: ROM only
    out[0x148] = 0x00  # ROM size code 0: 32 KiB, 2 banks
    out[0x149] = 0x00  # no cartridge RAM
    out[0x14A] = 0x01  # destination: overseas
    out[0x14B] = 0x00  # old licensee code: none (0x33 would defer to 0x144)
    out[0x14C] = 0x00  # mask ROM version
    out[0x14D] = header_checksum(out)
    g = global_checksum(out)
    out[0x14E:0x150] = bytes([g >> 8, g & 0xFF])
    return bytes(out)


def build_rom_image(source: str, title: str) -> tuple[bytes, Assembly]:
    """Assemble `source` into a bootable 32 KiB ROM; the source must not place bytes in the header."""
    asm = assemble(source, ROM_SIZE)
    for start, end in asm.used:
        if start < HEADER.stop and end > HEADER.start:
            raise HeaderError(f"code or data at ${start:04X}-${end - 1:04X} overlaps the header")
    return fill_header(asm.image, title), asm
