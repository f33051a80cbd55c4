"""The SM83 assembler and cartridge header (core/sm83.py, core/gbheader.py) and the committed ROM."""

import hashlib
from pathlib import Path

import pytest

from core.gb import layout
from core.gbheader import (
    NINTENDO_LOGO,
    HeaderError,
    build_rom_image,
    fill_header,
    global_checksum,
    header_checksum,
)
from core.sm83 import AsmError, assemble
from shell.rom import TITLE, build_rom, rom_source, write_rom

ROMS = Path(__file__).resolve().parents[1] / "roms"

# (source line, bytes) from the SM83 opcode table; "Lbl" is at address 0, each line at address 0.
ENCODINGS = [
    ("nop", "00"), ("ld a, b", "78"), ("ld b, a", "47"), ("ld [hl], a", "77"), ("ld a, [hl]", "7E"),
    ("halt", "76"), ("ld c, $12", "0E 12"), ("ld [hl], 3", "36 03"), ("ld bc, $1234", "01 34 12"),
    ("ld sp, $DFFF", "31 FF DF"), ("ld [bc], a", "02"), ("ld a, [de]", "1A"),
    ("ld [hl+], a", "22"), ("ld a, [hli]", "2A"), ("ld [hl-], a", "32"), ("ld a, (hld)", "3A"),
    ("ld [$C000], a", "EA 00 C0"), ("ld a, [$FF44]", "FA 44 FF"), ("ld [$C000], sp", "08 00 C0"),
    ("ld sp, hl", "F9"), ("ld hl, sp+5", "F8 05"), ("ld hl, sp-1", "F8 FF"),
    ("ldh [$44], a", "E0 44"), ("ldh [$FF40], a", "E0 40"), ("ldh a, [$FF00]", "F0 00"),
    ("ldh [c], a", "E2"), ("ld a, [$FF00+c]", "F2"),
    ("inc a", "3C"), ("dec b", "05"), ("inc [hl]", "34"), ("inc hl", "23"), ("dec sp", "3B"),
    ("add a, c", "81"), ("add b", "80"), ("adc a, [hl]", "8E"), ("sub d", "92"), ("sbc a, a", "9F"),
    ("and $0F", "E6 0F"), ("xor a", "AF"), ("or c", "B1"), ("cp 144", "FE 90"), ("add hl, de", "19"),
    ("add sp, -2", "E8 FE"), ("jp $0150", "C3 50 01"), ("jp nz, Lbl", "C2 00 00"),
    ("jp hl", "E9"), ("jp [hl]", "E9"), ("jr Lbl", "18 FE"), ("jr c, Lbl", "38 FE"),
    ("call $1234", "CD 34 12"), ("call z, $1234", "CC 34 12"), ("ret", "C9"), ("ret nc", "D0"),
    ("reti", "D9"), ("rst $38", "FF"), ("push af", "F5"), ("pop bc", "C1"), ("di", "F3"),
    ("ei", "FB"), ("stop", "10 00"), ("cpl", "2F"), ("rlca", "07"), ("rra", "1F"), ("daa", "27"),
    ("rlc b", "CB 00"), ("rr [hl]", "CB 1E"), ("swap a", "CB 37"), ("srl a", "CB 3F"),
    ("bit 7, h", "CB 7C"), ("res 0, a", "CB 87"), ("set 3, [hl]", "CB DE"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "expected"), ENCODINGS)
def test_instruction_encoding(line, expected):
    asm = assemble(f"Lbl:\n    {line}\n")
    want = bytes.fromhex(expected)
    assert asm.image[: len(want)] == want
    assert asm.used == ((0, len(want)),)


def test_expressions_labels_and_directives():
    src = """
BASE EQU $C000
SIZE = 3 * (2 + 1) << 1      ; 18
    ORG $200
Main:
    jr .loop
.loop:
    ld hl, BASE + SIZE
    db HIGH($1234), LOW($1234), 'A', "hi", SIZE / 4, 7 & 3 | 8, ~0 & $FF
    dw `01230123, Other.loop
    ds 2, $AA
Other:
.loop:
    jp .loop
    ASSERT @ - Main == 22
    ORG $C100
wVar:
    ds 4
wNext:
"""
    asm = assemble(src)
    s = asm.symbols
    assert (s["SIZE"], s["Main"], s["Main.loop"], s["Other.loop"]) == (18, 0x200, 0x202, 0x213)
    assert (s["wVar"], s["wNext"]) == (0xC100, 0xC104)
    assert asm.image[0x200:0x218] == bytes.fromhex(
        "18 00 21 12 C0 12 34 41 68 69 04 0B FF 55 33 13 02 AA AA C3 13 02 FF FF"
    )
    assert asm.used == ((0x200, 0x216),)


@pytest.mark.parametrize(
    ("src", "line", "words"),
    [
        ("nop\n\n    ld [bc], b\n", 3, "invalid operands for LD: [bc], b"),
        ("nop\n    frob a\n", 2, "unknown instruction"),
        ("    jp Nowhere\n", 1, "undefined symbol Nowhere"),
        ("A1:\nA1:\n", 2, "already defined"),
        ("    jr Far\n    ds 200\nFar:\n", 1, "JR reaches"),
        ("    ld a, 300\n", 1, "does not fit in a byte"),
        ("    bit 8, a\n", 1, "bit number"),
        ("    org 0\n    nop\n    org 0\n    db 1\n", 4, "already holds data from line 2"),
        ("    org $8000\n    db 1\n", 2, "outside the ROM"),
        ("    ds Later\nLater:\n", 1, "undefined symbol Later"),
        ("    ld a, (1 +\n", 1, "expression"),
        ('    ASSERT 1 == 2, "sizes differ"\n', 1, "sizes differ"),
    ],
)
def test_errors_name_their_line(src, line, words):
    with pytest.raises(AsmError) as err:
        assemble(src)
    assert isinstance(err.value, ValueError)
    assert str(err.value).startswith(f"line {line}: ")
    assert words in str(err.value)
    assert err.value.line == line


def test_header_fields_and_checksums():
    rom, _ = build_rom_image("    org $100\n    nop\n    jp $150\n    org $150\n    jr @\n", "TEST")
    assert rom[0x100:0x104] == bytes.fromhex("00 C3 50 01")
    assert rom[0x104:0x134] == NINTENDO_LOGO
    assert hashlib.sha256(NINTENDO_LOGO).hexdigest() == (  # the 48 bytes every DMG boot ROM checks
        "daf4cabdc852baa0291849203f0b41fd0b4ecd58e0d7aff4a509f5de4d7f9a2e"
    )
    assert rom[0x134:0x144] == b"TEST" + bytes(12)
    assert (rom[0x147], rom[0x148], rom[0x149]) == (0x00, 0x00, 0x00)
    x = 0
    for b in rom[0x134:0x14D]:
        x = (x - b - 1) & 0xFF
    assert rom[0x14D] == x == header_checksum(rom)
    total = sum(rom[:0x14E]) + sum(rom[0x150:])
    assert int.from_bytes(rom[0x14E:0x150], "big") == total & 0xFFFF == global_checksum(rom)


def test_header_refuses_overlap_and_bad_titles():
    with pytest.raises(HeaderError, match="overlaps the header"):
        build_rom_image("    org $130\n    db 1\n", "X")
    with pytest.raises(HeaderError, match="title"):
        fill_header(bytes(0x8000), "A TITLE FAR TOO LONG")


def test_committed_rom_is_the_build_byte_for_byte(tmp_path):
    committed = (ROMS / "worldgate.gb").read_bytes()
    assert build_rom() == committed
    digest = hashlib.sha256(committed).hexdigest()
    assert (ROMS / "worldgate.gb.sha256").read_text() == f"{digest}  worldgate.gb\n"
    assert write_rom(tmp_path / "out" / "w.gb") == digest
    assert (tmp_path / "out" / "w.gb").read_bytes() == committed
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["w.gb"]
    assert committed[0x134:0x13D] == TITLE.encode()


def test_layout_matches_the_maps_in_the_rom():
    rom, asm = build_rom_image(rom_source(), TITLE)
    for room, label in ((1, "Room1Map"), (2, "Room2Map")):
        info, at = layout.ROOMS[room], asm.symbols[label]
        drawn = rom[at : at + layout.WIDTH * layout.HEIGHT]
        assert drawn == bytes(layout.TILES[c] for row in info["grid"] for c in row)
        (x, y), (dx, dy) = info["start"], info["door"]
        assert info["grid"][y][x] in layout.WALKABLE and info["grid"][dy][dx] == "D"
    s = asm.symbols
    assert (s["R1_START_X"], s["R1_START_Y"]) == layout.ROOMS[1]["start"]
    assert (s["R2_ENTRY_X"], s["R2_ENTRY_Y"]) == layout.ROOMS[2]["start"]
    assert (2, s["R2_ENTRY_X"], s["R2_ENTRY_Y"]) == layout.ROOMS[1]["door_to"]
    assert (1, s["R1_RETURN_X"], s["R1_RETURN_Y"]) == layout.ROOMS[2]["door_to"]
    assert s["MENU_WY"] == layout.MENU_TOP_PX
