"""Errors that map to the exit codes of DESIGN.md: 1 a criterion failed, 2 bad input, 3 a prerequisite
missing here, 4 the gate crashed."""

from __future__ import annotations


class GateError(Exception):
    exit_code = 1


class BadInput(GateError):
    """Bad input or usage: the message names the file, field or line. Exit 2."""

    exit_code = 2


class Unavailable(GateError):
    """A prerequisite is missing here (optional package, CUDA, a ROM the user must supply). Exit 3."""

    exit_code = 3


class CriterionFailed(GateError):
    """A gate gave up early because a criterion cannot be met. Exit 1."""

    exit_code = 1


class GateCrashed(GateError):
    """An exception in a gate's or a model's own code, not a failed criterion. Exit 4."""

    exit_code = 4


class OverBudget(GateError):
    """`gate all --budget` ran out while this gate ran: it stopped without showing its criteria. Exit 1."""

    exit_code = 1
