"""A two-pass assembler for the SM83 (Game Boy CPU): source text in, bytes out. Pure: no IO.

Syntax (RGBDS-like): `label:`, `.local:` (scoped to the last global label), `NAME EQU expr` or
`NAME = expr`, `ORG expr`, `DB`, `DW`, `DS count[, fill]`, `ASSERT expr[, "message"]`, `;` comments.
Numbers: `$FF`, `0xFF`, `%1010`, `0b1010`, decimal, `'c'`, and `` `01233210 `` (one 2bpp tile row as a
word: low byte = low bit plane, so `DW` emits it in VRAM order). Memory operands use `[...]` or `(...)`.
Expressions: + - * / & | ^ << >> ~, == != < > <= >= (1 or 0), unary -, parentheses, HIGH(x), LOW(x), `@` (address of the line).
Instruction sizes depend only on syntax, so pass 1 sizes everything and pass 2 encodes with all labels
known. Every error is an `AsmError` (a ValueError) whose message begins with `line N:`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.sm83_expr import AsmError, Expr, Undefined, parse_number  # noqa: F401  (AsmError is public here)

ROM_SIZE = 0x8000  # 32 KiB: a ROM-only cartridge without a mapper
FILL = 0xFF  # unused ROM reads as RST $38, the value of an unprogrammed EPROM

R8 = {"B": 0, "C": 1, "D": 2, "E": 3, "H": 4, "L": 5, "[HL]": 6, "A": 7}
R16 = {"BC": 0, "DE": 1, "HL": 2, "SP": 3}
R16_STACK = {"BC": 0, "DE": 1, "HL": 2, "AF": 3}
COND = {"NZ": 0, "Z": 1, "NC": 2, "C": 3}
ALU = {"ADD": 0, "ADC": 1, "SUB": 2, "SBC": 3, "AND": 4, "XOR": 5, "OR": 6, "CP": 7}
CB_SHIFT = {"RLC": 0, "RRC": 1, "RL": 2, "RR": 3, "SLA": 4, "SRA": 5, "SWAP": 6, "SRL": 7}
CB_BIT = {"BIT": 0x40, "RES": 0x80, "SET": 0xC0}
NO_OPERAND = {
    "NOP": b"\x00", "HALT": b"\x76", "STOP": b"\x10\x00", "DI": b"\xf3", "EI": b"\xfb",
    "RET": b"\xc9", "RETI": b"\xd9", "RLCA": b"\x07", "RRCA": b"\x0f", "RLA": b"\x17",
    "RRA": b"\x1f", "DAA": b"\x27", "CPL": b"\x2f", "SCF": b"\x37", "CCF": b"\x3f",
}  # fmt: skip
MEM_REG = {"HL": "[HL]", "HL+": "[HLI]", "HLI": "[HLI]", "HL-": "[HLD]", "HLD": "[HLD]",
           "BC": "[BC]", "DE": "[DE]", "C": "[C]", "$FF00+C": "[C]", "0XFF00+C": "[C]"}  # fmt: skip


@dataclass(frozen=True)
class Assembly:
    image: bytes  # the ROM image, FILL where nothing was placed
    symbols: dict[str, int]  # every label and constant, locals as "Global.local"
    used: tuple[tuple[int, int], ...]  # (start, end) address spans that code or data occupy


def _split_operands(text: str) -> list[str]:
    parts, depth, quote, cur = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip() or parts:
        parts.append(cur.strip())
    return parts


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'" and not (ch == "'" and i + 2 < len(line) and line[i + 2] != "'"):
            quote = ch
        elif ch == ";":
            return line[:i]
    return line


def _memory(op: str) -> str | None:
    """The inside of a `[...]`/`(...)` operand whose brackets enclose all of it, else None."""
    if len(op) < 2 or op[0] not in "([" or op[-1] != {"(": ")", "[": "]"}[op[0]]:
        return None
    depth = 0
    for i, ch in enumerate(op):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and i < len(op) - 1:
            return None
    return op[1:-1].strip()


class _Assembler:
    def __init__(self, source: str, size: int):
        self.lines = source.splitlines()
        self.size = size
        self.symbols: dict[str, int] = {}

    def run(self) -> Assembly:
        for strict in (False, True):
            self.strict, self.pc, self.scope, self.defined = strict, 0, "", set()
            self.image, self.owner = bytearray([FILL]) * self.size, [0] * self.size
            for n, raw in enumerate(self.lines, 1):
                self.n = n
                try:
                    self._line(_strip_comment(raw).strip())
                except (ValueError, KeyError) as e:
                    raise AsmError(n, str(e).strip("'\"")) from None
        used, start = [], None
        for a in range(self.size + 1):
            on = a < self.size and self.owner[a] != 0
            if on and start is None:
                start = a
            elif not on and start is not None:
                used.append((start, a))
                start = None
        return Assembly(bytes(self.image), dict(self.symbols), tuple(used))

    # -- symbols and expressions ------------------------------------------------------------
    def _qualify(self, name: str) -> str:
        if name.startswith("."):
            if not self.scope:
                raise ValueError(f"local label {name} before any global label")
            return self.scope + name
        return name

    def _lookup(self, name: str) -> int:
        full = self._qualify(name)
        if full in self.symbols:
            return self.symbols[full]
        if self.strict:
            raise ValueError(f"undefined symbol {name}")
        raise Undefined(name)

    def eval(self, text: str, *, required: bool = False) -> int:
        """Value of `text`; in pass 1 an unknown symbol gives 0 unless the value is `required` now."""
        try:
            return Expr(text, self._lookup, self.pc).value()
        except Undefined as u:
            if required:
                raise ValueError(
                    f"undefined symbol {u} (must be defined before this line)"
                ) from None
            return 0

    def define(self, name: str, value: int) -> None:
        full = self._qualify(name)
        if full in self.defined:
            raise ValueError(f"{name} is already defined")
        self.defined.add(full)
        self.symbols[full] = value

    # -- output -------------------------------------------------------------------------------
    def emit(self, data: bytes | list[int]) -> None:
        for b in data:
            if not 0 <= self.pc < self.size:
                raise ValueError(f"data at ${self.pc:04X} lies outside the ROM")
            if self.owner[self.pc]:
                raise ValueError(
                    f"${self.pc:04X} already holds data from line {self.owner[self.pc]}"
                )
            self.image[self.pc], self.owner[self.pc] = b & 0xFF, self.n
            self.pc += 1

    def n8(self, text: str) -> int:
        v = self.eval(text)
        if self.strict and not -128 <= v <= 255:
            raise ValueError(f"{text} = {v} does not fit in a byte")
        return v & 0xFF

    def n16(self, text: str) -> list[int]:
        v = self.eval(text)
        if self.strict and not -32768 <= v <= 0xFFFF:
            raise ValueError(f"{text} = {v} does not fit in a word")
        return [v & 0xFF, (v >> 8) & 0xFF]

    def rel(self, text: str) -> int:
        d = self.eval(text) - (self.pc + 2)
        if self.strict and not -128 <= d <= 127:
            raise ValueError(f"jump target {text} is {d} bytes away (JR reaches -128..127)")
        return d & 0xFF

    # -- lines --------------------------------------------------------------------------------
    def _line(self, line: str) -> None:
        m = re.match(r"([A-Za-z_.][\w.]*)\s*(?:EQU\s|=)\s*(.+)$", line, re.IGNORECASE)
        if m:
            return self.define(m.group(1), self.eval(m.group(2), required=True))
        m = re.match(r"([A-Za-z_.][\w.]*)::?", line)
        if m:
            if not m.group(1).startswith("."):
                self.scope = m.group(1)
            self.define(m.group(1), self.pc)
            line = line[m.end() :].strip()
        if not line:
            return
        mnemonic, rest = (line.split(None, 1) + [""])[:2]
        mnemonic, ops = mnemonic.upper(), _split_operands(rest)
        directive = getattr(self, "_d_" + mnemonic.lower(), None)
        if directive and not ops:
            raise ValueError(f"{mnemonic} needs an operand")
        if directive:
            return directive(ops)
        self.emit(self.encode(mnemonic, ops))

    def _d_org(self, ops: list[str]) -> None:
        self.pc = self.eval(ops[0], required=True)

    def _d_db(self, ops: list[str]) -> None:
        for op in ops:
            if len(op) >= 2 and op[0] == op[-1] == '"':
                self.emit(op[1:-1].encode("ascii"))
            else:
                self.emit([self.n8(op)])

    def _d_dw(self, ops: list[str]) -> None:
        for op in ops:
            self.emit(self.n16(op))

    def _d_ds(self, ops: list[str]) -> None:
        count = self.eval(ops[0], required=True)
        if len(ops) > 1 or self.pc < self.size:
            self.emit([self.n8(ops[1]) if len(ops) > 1 else FILL] * count)
        else:
            self.pc += count

    def _d_assert(self, ops: list[str]) -> None:
        if self.strict and not self.eval(ops[0]):
            raise ValueError(ops[1].strip('"') if len(ops) > 1 else f"assertion failed: {ops[0]}")

    # -- instructions -------------------------------------------------------------------------
    def _operand(self, op: str) -> tuple[str, str]:
        """(register-ish name or "", expression text) for one operand."""
        inner = _memory(op)
        if inner is not None:
            key = re.sub(r"\s+", "", inner).upper()
            return (MEM_REG[key], "") if key in MEM_REG else ("[n]", inner)
        key = op.upper()
        return (key, "") if key in R8 or key in R16 or key in COND or key == "AF" else ("n", op)

    def encode(self, mn: str, ops: list[str]) -> list[int]:
        kinds = [self._operand(o) for o in ops]
        k = [kd for kd, _ in kinds]
        x = [ex for _, ex in kinds]
        if mn in NO_OPERAND and not ops:
            return list(NO_OPERAND[mn])
        if mn == "LD" and len(ops) == 2:
            return self._ld(k, x, ops)
        if mn == "LDH" and len(ops) == 2:
            if k == ["[C]", "A"] or k == ["A", "[C]"]:
                return [0xE2 if k[0] == "[C]" else 0xF2]
            if k[0] == "[n]" and k[1] == "A":
                return [0xE0, self._high_page(x[0])]
            if k[0] == "A" and k[1] == "[n]":
                return [0xF0, self._high_page(x[1])]
        if mn in ALU:
            if len(ops) == 2 and k[0] == "A":
                k, x = k[1:], x[1:]
            if len(k) == 1 and k[0] in R8:
                return [0x80 | ALU[mn] << 3 | R8[k[0]]]
            if len(k) == 1 and k[0] == "n":
                return [0xC6 | ALU[mn] << 3, self.n8(x[0])]
            if mn == "ADD" and len(ops) == 2 and k == ["HL", k[1]] and k[1] in R16:
                return [0x09 | R16[k[1]] << 4]
            if mn == "ADD" and len(ops) == 2 and k == ["SP", "n"]:
                return [0xE8, self.n8(x[1])]
        if mn in ("INC", "DEC") and len(ops) == 1:
            if k[0] in R8:
                return [(0x04 if mn == "INC" else 0x05) | R8[k[0]] << 3]
            if k[0] in R16:
                return [(0x03 if mn == "INC" else 0x0B) | R16[k[0]] << 4]
        if mn in ("PUSH", "POP") and len(ops) == 1 and k[0] in R16_STACK:
            return [(0xC5 if mn == "PUSH" else 0xC1) | R16_STACK[k[0]] << 4]
        if mn in ("JP", "CALL", "JR", "RET") and ops and k[0] in COND:
            cc, k, x = COND[k[0]], k[1:], x[1:]
            if mn == "RET" and not k:
                return [0xC0 | cc << 3]
            if mn == "JR" and k == ["n"]:
                return [0x20 | cc << 3, self.rel(x[0])]
            if k == ["n"]:
                return [(0xC2 if mn == "JP" else 0xC4) | cc << 3, *self.n16(x[0])]
        elif mn in ("JP", "CALL") and k == ["n"]:
            return [0xC3 if mn == "JP" else 0xCD, *self.n16(x[0])]
        elif mn == "JP" and k in (["HL"], ["[HL]"]):
            return [0xE9]
        elif mn == "JR" and k == ["n"]:
            return [0x18, self.rel(x[0])]
        if mn == "RST" and k == ["n"]:
            v = self.eval(x[0])
            if self.strict and v not in range(0, 0x40, 8):
                raise ValueError(f"RST target must be one of $00,$08,...,$38, not {v}")
            return [0xC7 | (v & 0x38)]
        if mn in CB_SHIFT and len(ops) == 1 and k[0] in R8:
            return [0xCB, CB_SHIFT[mn] << 3 | R8[k[0]]]
        if mn in CB_BIT and len(ops) == 2 and k[0] == "n" and k[1] in R8:
            bit = self.eval(x[0])
            if self.strict and not 0 <= bit <= 7:
                raise ValueError(f"bit number must be 0..7, not {bit}")
            return [0xCB, CB_BIT[mn] | (bit & 7) << 3 | R8[k[1]]]
        if mn in NO_OPERAND or mn in ALU or mn in CB_SHIFT or mn in CB_BIT or mn in (
            "LD", "LDH", "INC", "DEC", "PUSH", "POP", "JP", "CALL", "JR", "RST"
        ):  # fmt: skip
            raise ValueError(f"invalid operands for {mn}: {', '.join(ops) or '(none)'}")
        raise ValueError(f"unknown instruction or directive {mn}")

    def _high_page(self, text: str) -> int:
        v = self.eval(text)
        v = v - 0xFF00 if v >= 0xFF00 else v
        if self.strict and not 0 <= v <= 0xFF:
            raise ValueError(f"LDH address {text} must be $FF00-$FFFF or $00-$FF")
        return v & 0xFF

    def _ld(self, k: list[str], x: list[str], ops: list[str]) -> list[int]:
        d, s = k
        if d == "HL" and s == "n" and re.match(r"(?i)\s*SP\s*[-+]", x[1]):
            return [0xF8, self.n8(re.sub(r"(?i)^\s*SP\s*", "", x[1]))]
        if d in R8 and s in R8 and not d == s == "[HL]":
            return [0x40 | R8[d] << 3 | R8[s]]
        if d in R8 and s == "n":
            return [0x06 | R8[d] << 3, self.n8(x[1])]
        if d in R16 and s == "n":
            return [0x01 | R16[d] << 4, *self.n16(x[1])]
        pairs = {("[BC]", "A"): 0x02, ("[DE]", "A"): 0x12, ("A", "[BC]"): 0x0A, ("A", "[DE]"): 0x1A,
                 ("[HLI]", "A"): 0x22, ("A", "[HLI]"): 0x2A, ("[HLD]", "A"): 0x32,
                 ("A", "[HLD]"): 0x3A, ("[C]", "A"): 0xE2, ("A", "[C]"): 0xF2, ("SP", "HL"): 0xF9}  # fmt: skip
        if (d, s) in pairs:
            return [pairs[(d, s)]]
        if d == "[n]" and s == "A":
            return [0xEA, *self.n16(x[0])]
        if d == "A" and s == "[n]":
            return [0xFA, *self.n16(x[1])]
        if d == "[n]" and s == "SP":
            return [0x08, *self.n16(x[0])]
        raise ValueError(f"invalid operands for LD: {', '.join(ops)}")


def assemble(source: str, size: int = ROM_SIZE) -> Assembly:
    """Assemble SM83 source into a `size`-byte image (unplaced bytes are FILL)."""
    return _Assembler(source, size).run()
