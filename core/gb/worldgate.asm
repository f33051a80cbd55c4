; worldgate.asm: the project's own Game Boy game (DMG, ROM only, 32 KiB), assembled by core/sm83.py.
; Room 1 -> door -> fade -> room 2 (the goal screen) and back; START opens a menu in the window, B
; closes it; one tile per d-pad press (edge-triggered); a water tile animates every 16 frames.
; No interrupts: the main loop polls LY once per frame, so every run is cycle-for-cycle the same.

rP1     EQU $FF00
rNR52   EQU $FF26
rLCDC   EQU $FF40
rSCY    EQU $FF42
rSCX    EQU $FF43
rLY     EQU $FF44
rDMA    EQU $FF46
rBGP    EQU $FF47
rOBP0   EQU $FF48
rOBP1   EQU $FF49
rWY     EQU $FF4A
rWX     EQU $FF4B
rIF     EQU $FF0F
rIE     EQU $FFFF

LCDC_ON   EQU $D3            ; LCD on, window map $9C00, tiles at $8000, sprites on, BG on
LCDC_WIN  EQU $20            ; window enable, or-ed in while the menu is open
PAL_NORMAL EQU $E4           ; shades 0..3 = white, light, dark, black
VBLANK_LY EQU 144
MENU_WY   EQU 96             ; the window covers the bottom 6 tile rows

MAP_W   EQU 20
MAP_H   EQU 18
VRAM_TILES EQU $8000
BG_MAP  EQU $9800
WIN_MAP EQU $9C00

T_FLOOR EQU 0
T_WALL  EQU 1
T_DOOR  EQU 2
T_WATER EQU 3
T_GRASS EQU 4
T_STAR  EQU 5
T_BOX   EQU 6
T_PLAYER EQU 7

PAD_A     EQU 0              ; bit numbers in wKeys: buttons low nibble, d-pad high nibble
PAD_B     EQU 1
PAD_START EQU 3
PAD_RIGHT EQU 4
PAD_LEFT  EQU 5
PAD_UP    EQU 6
PAD_DOWN  EQU 7

MODE_WALK    EQU 0
MODE_MENU    EQU 1
MODE_FADEOUT EQU 2
MODE_FADEIN  EQU 3
FADE_LEN     EQU 8           ; frames per fade (2 per palette step): a door step fits in 24 frames

R1_DOOR_X   EQU 19
R1_DOOR_Y   EQU 8
R1_START_X  EQU 2
R1_START_Y  EQU 9
R1_RETURN_X EQU 18
R1_RETURN_Y EQU 8
R2_ENTRY_X  EQU 1
R2_ENTRY_Y  EQU 8

wShadowOAM EQU $C000         ; page-aligned: OAM DMA copies $XX00-$XX9F
wKeys      EQU $C100
wKeysNew   EQU $C101
wFrame     EQU $C102
wMode      EQU $C103
wPlayerX   EQU $C104
wPlayerY   EQU $C105
wRoom      EQU $C106         ; 0 = room 1, 1 = room 2
wFade      EQU $C107
wBGP       EQU $C108
wLCDC      EQU $C109
wMapPtr    EQU $C10A         ; little-endian pointer to the current room's map in ROM
hDMA       EQU $FF80

    ORG $0100
    NOP
    JP Start

    ORG $0150
Start:
    DI
    LD SP, $E000
.waitvb:
    LDH A, [rLY]
    CP VBLANK_LY
    JR C, .waitvb
    XOR A
    LDH [rLCDC], A
    LDH [rNR52], A
    LDH [rIE], A
    LDH [rIF], A
    LD HL, $C000
.clearwram:
    XOR A
    LD [HL+], A
    LD A, H
    CP $E0
    JR NZ, .clearwram
    LD HL, $8000
    LD BC, $2000
    CALL MemZero
    LD HL, $FE00
    LD BC, $00A0
    CALL MemZero
    LD HL, $FF80
    LD BC, $007F
    CALL MemZero
    LD HL, DMARoutine
    LD DE, hDMA
    LD B, DMARoutineEnd - DMARoutine
    CALL CopyB
    LD HL, TileData
    LD DE, VRAM_TILES
    LD B, TileDataEnd - TileData
    CALL CopyB
    CALL LoadFont
    LD HL, WindowMap
    LD DE, WIN_MAP
    LD C, 6
    CALL CopyRows
    XOR A
    LDH [rSCY], A
    LDH [rSCX], A
    LD A, MENU_WY
    LDH [rWY], A
    LD A, 7
    LDH [rWX], A
    LD A, PAL_NORMAL
    LD [wBGP], A
    LDH [rBGP], A
    LDH [rOBP0], A
    LDH [rOBP1], A
    LD A, LCDC_ON
    LD [wLCDC], A
    LD A, R1_START_X
    LD [wPlayerX], A
    LD A, R1_START_Y
    LD [wPlayerY], A
    CALL UpdateSprite
    LD HL, Room1Map
    CALL LoadRoom

MainLoop:
    CALL WaitVBlank
    CALL VBlankWork
    CALL ReadJoypad
    CALL Update
    JR MainLoop

; Returns at the start of the next VBlank (LY = 144); the LCD must be on.
WaitVBlank:
    LDH A, [rLY]
    CP VBLANK_LY
    JR Z, WaitVBlank
.wait:
    LDH A, [rLY]
    CP VBLANK_LY
    JR NZ, .wait
    RET

VBlankWork:
    CALL hDMA
    LD A, [wBGP]
    LDH [rBGP], A
    LDH [rOBP0], A
    LD A, [wLCDC]
    LDH [rLCDC], A
    LD HL, wFrame
    INC [HL]
    LD A, [HL]
    AND $0F
    RET NZ
    LD A, [HL]
    AND $30                  ; phase (frame / 16) mod 4, times 16 bytes per tile
    LD E, A
    LD D, 0
    LD HL, WaterFrames
    ADD HL, DE
    LD DE, VRAM_TILES + T_WATER * 16
    LD B, 16
    JP CopyB

; wKeys = d-pad << 4 | buttons (1 = held); wKeysNew = the bits that went from 0 to 1 this frame.
ReadJoypad:
    LD A, $20
    LDH [rP1], A
    LDH A, [rP1]
    LDH A, [rP1]
    CPL
    AND $0F
    SWAP A
    LD B, A
    LD A, $10
    LDH [rP1], A
    LDH A, [rP1]
    LDH A, [rP1]
    LDH A, [rP1]
    LDH A, [rP1]
    CPL
    AND $0F
    OR B
    LD B, A
    LD A, $30
    LDH [rP1], A
    LD A, [wKeys]
    CPL
    AND B
    LD [wKeysNew], A
    LD A, B
    LD [wKeys], A
    RET

Update:
    LD A, [wMode]
    CP MODE_WALK
    JR Z, UpdateWalk
    CP MODE_MENU
    JR Z, UpdateMenu
    CP MODE_FADEOUT
    JR Z, UpdateFadeOut
    JR UpdateFadeIn

UpdateMenu:
    LD A, [wKeysNew]
    BIT PAD_B, A
    RET Z
    XOR A
    LD [wMode], A
    LD A, LCDC_ON
    LD [wLCDC], A
    JP UpdateSprite

UpdateFadeOut:
    LD HL, wFade
    LD A, [HL]
    CP FADE_LEN
    JR Z, .switch
    INC [HL]
    JR SetFadePalette
.switch:
    LD A, MODE_FADEIN
    LD [wMode], A
    JP SwitchRoom

UpdateFadeIn:
    LD HL, wFade
    DEC [HL]
    JR NZ, SetFadePalette
    XOR A
    LD [wMode], A
    LD A, PAL_NORMAL
    LD [wBGP], A
    RET

; wBGP = FadeTable[wFade]; wFade 0 = normal .. FADE_LEN = white.
SetFadePalette:
    LD A, [wFade]
    LD E, A
    LD D, 0
    LD HL, FadeTable
    ADD HL, DE
    LD A, [HL]
    LD [wBGP], A
    RET

UpdateWalk:
    LD A, [wKeysNew]
    BIT PAD_START, A
    JR NZ, OpenMenu
    LD BC, $0100             ; B = dx, C = dy
    BIT PAD_RIGHT, A
    JR NZ, .try
    LD B, $FF
    BIT PAD_LEFT, A
    JR NZ, .try
    LD BC, $00FF
    BIT PAD_UP, A
    JR NZ, .try
    LD C, 1
    BIT PAD_DOWN, A
    RET Z
.try:
    LD A, [wPlayerX]
    ADD A, B
    CP MAP_W
    RET NC
    LD D, A
    LD A, [wPlayerY]
    ADD A, C
    CP MAP_H
    RET NC
    LD E, A
    CALL TileAt
    CP T_FLOOR
    JR Z, .move
    CP T_GRASS
    JR Z, .move
    CP T_DOOR
    RET NZ
    LD A, MODE_FADEOUT
    LD [wMode], A
    XOR A
    LD [wFade], A
.move:
    LD A, D
    LD [wPlayerX], A
    LD A, E
    LD [wPlayerY], A
    JP UpdateSprite

OpenMenu:
    LD A, MODE_MENU
    LD [wMode], A
    LD A, LCDC_ON | LCDC_WIN
    LD [wLCDC], A
    XOR A
    LD [wShadowOAM], A       ; sprite Y 0 = hidden behind the menu
    RET

; A = tile of the current room at (D, E); keeps D and E.
TileAt:
    LD L, E
    LD H, 0
    ADD HL, HL
    ADD HL, HL
    LD B, H
    LD C, L
    ADD HL, HL
    ADD HL, HL
    ADD HL, BC
    LD C, D
    LD B, 0
    ADD HL, BC
    LD A, [wMapPtr]
    LD C, A
    LD A, [wMapPtr + 1]
    LD B, A
    ADD HL, BC
    LD A, [HL]
    RET

UpdateSprite:
    LD HL, wShadowOAM
    LD A, [wPlayerY]
    ADD A, A
    ADD A, A
    ADD A, A
    ADD A, 16
    LD [HL+], A
    LD A, [wPlayerX]
    ADD A, A
    ADD A, A
    ADD A, A
    ADD A, 8
    LD [HL+], A
    LD A, T_PLAYER
    LD [HL+], A
    XOR A
    LD [HL], A
    RET

; Toggle room; the palette is white now, so the redraw with the LCD off is not seen.
SwitchRoom:
    LD A, [wRoom]
    XOR 1
    LD [wRoom], A
    JR Z, .toroom1
    LD A, R2_ENTRY_X
    LD [wPlayerX], A
    LD A, R2_ENTRY_Y
    LD [wPlayerY], A
    LD HL, Room2Map
    JR .load
.toroom1:
    LD A, R1_RETURN_X
    LD [wPlayerX], A
    LD A, R1_RETURN_Y
    LD [wPlayerY], A
    LD HL, Room1Map
.load:
    PUSH HL
    CALL UpdateSprite
    POP HL

; Draw the MAP_W x MAP_H map at HL into the BG map and make it current; turns the LCD off meanwhile.
LoadRoom:
    LD A, L
    LD [wMapPtr], A
    LD A, H
    LD [wMapPtr + 1], A
    CALL LcdOff
    LD DE, BG_MAP
    LD C, MAP_H
    CALL CopyRows
    LD A, [wLCDC]
    LDH [rLCDC], A
    RET

; Turn the LCD off, waiting for VBlank first if it is on (turning it off outside VBlank is not allowed).
LcdOff:
    LDH A, [rLCDC]
    ADD A, A
    RET NC
.wait:
    LDH A, [rLY]
    CP VBLANK_LY
    JR C, .wait
    XOR A
    LDH [rLCDC], A
    RET

; Copy C rows of MAP_W bytes from HL to the 32-wide tile map at DE.
CopyRows:
    LD B, MAP_W
.col:
    LD A, [HL+]
    LD [DE], A
    INC DE
    DEC B
    JR NZ, .col
    LD A, E
    ADD A, 32 - MAP_W
    LD E, A
    JR NC, .nocarry
    INC D
.nocarry:
    DEC C
    JR NZ, CopyRows
    RET

; Copy B bytes (1..256, 0 = 256) from HL to DE.
CopyB:
    LD A, [HL+]
    LD [DE], A
    INC DE
    DEC B
    JR NZ, CopyB
    RET

; Zero BC bytes (BC > 0) from HL.
MemZero:
    XOR A
    LD [HL+], A
    DEC BC
    LD A, B
    OR C
    JR NZ, MemZero
    RET

; Font entries: tile number, 8 rows of 1bpp; drawn black (both bit planes). A 0 ends the list.
LoadFont:
    LD HL, Font
.glyph:
    LD A, [HL+]
    OR A
    RET Z
    LD D, A
    SWAP A
    AND $F0
    LD E, A
    LD A, D
    SWAP A
    AND $0F
    OR HIGH(VRAM_TILES)
    LD D, A
    LD B, 8
.row:
    LD A, [HL+]
    LD [DE], A
    INC DE
    LD [DE], A
    INC DE
    DEC B
    JR NZ, .row
    JR .glyph

; Copied to HRAM: the CPU may only read HRAM while OAM DMA runs (160 M-cycles).
DMARoutine:
    LD A, HIGH(wShadowOAM)
    LDH [rDMA], A
    LD A, 40
.wait:
    DEC A
    JR NZ, .wait
    RET
DMARoutineEnd:

FadeTable:
    DB PAL_NORMAL, PAL_NORMAL, $90, $90, $40, $40, $00, $00, $00
    ASSERT @ - FadeTable == FADE_LEN + 1

WindowMap:
    DB 6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6
    DB 6,"  WORLDGATE MENU  ",6
    DB 6,"                  ",6
    DB 6,"  ITEMS    MAP    ",6
    DB 6,"  B CLOSE         ",6
    DB 6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6

TileData:
    ; T_FLOOR
    DW `00000000, `00000000, `00000000, `00000000, `00000000, `00000000, `00000000, `00000000
    ; T_WALL
    DW `33333333, `22232222, `22232222, `22232222, `33333333, `22222223, `22222223, `22222223
    ; T_DOOR
    DW `33333333, `31111113, `31222213, `31222213, `31222313, `31222213, `31222213, `31222213
    ; T_WATER (phase 0; VBlankWork rewrites it)
    DW `11111111, `11221111, `12112111, `21111222, `11111111, `11111221, `11112112, `22221111
    ; T_GRASS
    DW `00000000, `00100000, `01010000, `00000000, `00000010, `00000101, `00000000, `00000000
    ; T_STAR
    DW `00033000, `00033000, `33333333, `03333330, `00333300, `03300330, `33000033, `00000000
    ; T_BOX
    DW `33333333, `32222223, `32111123, `32111123, `32111123, `32111123, `32222223, `33333333
    ; T_PLAYER (shade 0 is transparent)
    DW `00333300, `03211230, `03111130, `00311300, `03333330, `30333303, `00300300, `03300330
TileDataEnd:
    ASSERT TileDataEnd - TileData == (T_PLAYER + 1) * 16

Room1Map:
    DB 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1
    DB 1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1
    DB 1,0,0,3,3,3,0,0,0,0,0,0,0,0,0,0,0,0,0,1
    DB 1,0,0,3,3,3,0,0,0,0,0,0,0,1,1,0,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,0,0,1,1,1,1,0,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,2
    DB 1,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,1,1,0,0,0,0,0,0,0,0,3,3,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1
    DB 1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1
    DB 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1
Room2Map:
    DB 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1
    DB 1,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,1
    DB 1,4,3,3,4,4,4,4,4,4,4,4,4,4,4,4,3,3,4,1
    DB 1,4,3,3,4,4,4,4,4,4,4,4,4,4,4,4,3,3,4,1
    DB 1,4,4,4,4,4,4,1,1,1,1,1,1,4,4,4,4,4,4,1
    DB 1,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,1
    DB 1,4,4,4,4,4,4,4,5,5,5,5,4,4,4,4,4,4,4,1
    DB 1,4,4,4,1,4,4,4,5,4,4,5,4,4,4,1,4,4,4,1
    DB 2,4,4,4,1,4,4,4,5,4,4,5,4,4,4,1,4,4,4,1
    DB 1,4,4,4,1,4,4,4,5,4,4,5,4,4,4,1,4,4,4,1
    DB 1,4,4,4,4,4,4,4,5,5,5,5,4,4,4,4,4,4,4,1
    DB 1,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,1
    DB 1,4,4,4,4,4,4,1,1,1,1,1,1,4,4,4,4,4,4,1
    DB 1,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,1
    DB 1,4,3,3,4,4,4,4,4,4,4,4,4,4,4,4,3,3,4,1
    DB 1,4,3,3,4,4,4,4,4,4,4,4,4,4,4,4,3,3,4,1
    DB 1,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,1
    DB 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1
WaterFrames:
    DW `11111111
    DW `11221111
    DW `12112111
    DW `21111222
    DW `11111111
    DW `11111221
    DW `11112112
    DW `22221111
    DW `11111111
    DW `11112211
    DW `11121121
    DW `22211112
    DW `11111111
    DW `21111112
    DW `12111121
    DW `11222211
    DW `11111111
    DW `11111122
    DW `21111211
    DW `12222111
    DW `11111111
    DW `12211111
    DW `21121111
    DW `11112222
    DW `11111111
    DW `22111111
    DW `11211112
    DW `11122221
    DW `11111111
    DW `11122111
    DW `11211211
    DW `22111122
Font:
    DB 'A', %00111000,%01000100,%01000100,%01111100,%01000100,%01000100,%01000100,%00000000
    DB 'B', %01111000,%01000100,%01000100,%01111000,%01000100,%01000100,%01111000,%00000000
    DB 'C', %00111000,%01000100,%01000000,%01000000,%01000000,%01000100,%00111000,%00000000
    DB 'D', %01111000,%01000100,%01000100,%01000100,%01000100,%01000100,%01111000,%00000000
    DB 'E', %01111100,%01000000,%01000000,%01111000,%01000000,%01000000,%01111100,%00000000
    DB 'G', %00111000,%01000100,%01000000,%01011100,%01000100,%01000100,%00111100,%00000000
    DB 'I', %00111000,%00010000,%00010000,%00010000,%00010000,%00010000,%00111000,%00000000
    DB 'L', %01000000,%01000000,%01000000,%01000000,%01000000,%01000000,%01111100,%00000000
    DB 'M', %01000100,%01101100,%01010100,%01010100,%01000100,%01000100,%01000100,%00000000
    DB 'N', %01000100,%01100100,%01010100,%01001100,%01000100,%01000100,%01000100,%00000000
    DB 'O', %00111000,%01000100,%01000100,%01000100,%01000100,%01000100,%00111000,%00000000
    DB 'P', %01111000,%01000100,%01000100,%01111000,%01000000,%01000000,%01000000,%00000000
    DB 'R', %01111000,%01000100,%01000100,%01111000,%01010000,%01001000,%01000100,%00000000
    DB 'S', %00111100,%01000000,%01000000,%00111000,%00000100,%00000100,%01111000,%00000000
    DB 'T', %01111100,%00010000,%00010000,%00010000,%00010000,%00010000,%00010000,%00000000
    DB 'U', %01000100,%01000100,%01000100,%01000100,%01000100,%01000100,%00111000,%00000000
    DB 'W', %01000100,%01000100,%01000100,%01010100,%01010100,%01101100,%01000100,%00000000
    DB 0
