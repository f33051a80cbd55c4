"""The SM83 assembler's numbers and expressions (core/sm83.py): literals, tile rows, and a
recursive-descent evaluator. Pure: no IO."""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\$[0-9A-Fa-f]+|0[xX][0-9A-Fa-f]+|%[01]+|0[bB][01]+|\d+)"
    r"|(?P<chr>'(?:[^'\\]|\\.)')|(?P<gfx>`[0-3]{8})|(?P<name>[A-Za-z_.][\w.]*)"
    r"|(?P<op><<|>>|==|!=|<=|>=|[-+*/&|^~()@,<>]))"
)
_BINARY = [
    ("==", "!=", "<=", ">=", "<", ">"),
    ("|",),
    ("^",),
    ("&",),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/"),
]


class AsmError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


class Undefined(Exception):
    pass


def parse_number(text: str) -> int:
    if text[0] == "$":
        return int(text[1:], 16)
    if text[0] == "%":
        return int(text[1:], 2)
    return int(text, 0) if text[:2].lower() in ("0x", "0b") else int(text)


def gfx_row(digits: str) -> int:
    lo = hi = 0
    for d in map(int, digits):
        lo, hi = (lo << 1) | (d & 1), (hi << 1) | (d >> 1)
    return lo | (hi << 8)


class Expr:
    """Recursive-descent evaluator over one expression's tokens."""

    def __init__(self, text: str, lookup, here: int):
        self.toks, pos, text = [], 0, text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot parse {text[pos:]!r}")
            self.toks.append((m.lastgroup, m.group(m.lastgroup)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i, self.lookup, self.here = 0, lookup, here

    def value(self) -> int:
        if not self.toks:
            raise ValueError("missing expression")
        v = self._binary(0)
        if self.i != len(self.toks):
            raise ValueError(f"unexpected {self.toks[self.i][1]!r}")
        return v

    def _peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def _binary(self, level: int) -> int:
        if level == len(_BINARY):
            return self._unary()
        v = self._binary(level + 1)
        while self._peek()[0] == "op" and self._peek()[1] in _BINARY[level]:
            op = self.toks[self.i][1]
            self.i += 1
            r = self._binary(level + 1)
            if op == "/" and r == 0:
                raise ValueError("division by zero")
            v = {"==": int(v == r), "!=": int(v != r), "<=": int(v <= r), ">=": int(v >= r),
                 "<": int(v < r), ">": int(v > r), "|": v | r, "^": v ^ r, "&": v & r, "<<": v << r, ">>": v >> r, "+": v + r,
                 "-": v - r, "*": v * r, "/": int(v / r) if r else 0}[op]  # fmt: skip
        return v

    def _unary(self) -> int:
        kind, tok = self._peek()
        if kind == "op" and tok in "-~+":
            self.i += 1
            v = self._unary()
            return -v if tok == "-" else ~v if tok == "~" else v
        return self._atom()

    def _atom(self) -> int:
        kind, tok = self._peek()
        self.i += 1
        if kind == "num":
            return parse_number(tok)
        if kind == "chr":
            return ord(tok[1:-1].encode().decode("unicode_escape"))
        if kind == "gfx":
            return gfx_row(tok[1:])
        if kind == "op" and tok == "@":
            return self.here
        if kind == "op" and tok == "(":
            v = self._binary(0)
            self._expect(")")
            return v
        if kind == "name":
            if tok.upper() in ("HIGH", "LOW") and self._peek() == ("op", "("):
                self.i += 1
                v = self._binary(0)
                self._expect(")")
                return (v >> 8) & 0xFF if tok.upper() == "HIGH" else v & 0xFF
            return self.lookup(tok)
        raise ValueError(f"unexpected {tok!r}" if tok else "expression ends too soon")

    def _expect(self, tok: str) -> None:
        if self._peek() != ("op", tok):
            raise ValueError(f"expected {tok!r}")
        self.i += 1
