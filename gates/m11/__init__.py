"""Gate m11, api: the world models and the harness as a server others can build on
(functional-milestones, Milestone 10).

`gate m11` starts `gate serve` on a free loopback port and checks, against the live server: the
contract (every endpoint and the WebSocket round trip, through the Python client), API keys (401, 403,
429), step latency at a stated concurrency and frame rate, the cheap endpoint's requests/s, the success
rate under load, and a schemathesis run against /openapi.json (no 5xx, no schema violation). It also
reports frames/s and batch sizes vs concurrency. The spec's "100+ API keys issued" is adoption, not
something a gate can measure; "99.9 % uptime" is measured as the success rate of every request the gate
makes under load.

Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from typing import Any

from shell.registry import Criterion, Gate, lazy

SESSIONS = 4  # concurrent play sessions for the latency criterion...
RATE_HZ = 5.0  # ...each sending an action 5 times a second (see docs/serve.md for why)


def config(**values: Any) -> Any:
    from pydantic import BaseModel, ConfigDict, Field

    class M11Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str = "predictor"
        sessions: int = Field(SESSIONS, ge=1, le=256)
        rate_hz: float = Field(RATE_HZ, ge=0)  # 0: closed loop (as fast as replies come)
        latency_seconds: float = Field(6.0, gt=0, le=120)
        curve: list[int] = Field(default_factory=lambda: [1, 4, 8, 16], min_length=1)
        curve_seconds: float = Field(2.5, gt=0, le=60)
        cheap_seconds: float = Field(3.0, gt=0, le=60)
        cheap_conns: int = Field(16, ge=1, le=256)
        fuzz_examples: int = Field(3, ge=1, le=100)
        fuzz_seconds: float = Field(20.0, gt=0, le=600)
        threads: int = Field(1, ge=1, le=8)  # the server's torch threads

    return M11Config(**values)


GATE = Gate(
    "m11",
    "api",
    "functional-milestones, Milestone 10",
    ("m2",),  # the world model it serves; the browser pages (m10) are not what the API needs
    (
        Criterion("contract", "==", 1, description="every endpoint and the WebSocket round trip behave as documented"),
        Criterion("keys", "==", 1, description="401 without a key, 403 revoked, 429 over the rate and the quota"),
        Criterion("p95_ms", "<", 100, "ms", description="step latency p95 at the configured sessions x rate"),
        Criterion("success_rate", ">=", 0.999, description="requests answered 2xx under load (the spec's 99.9 %)"),
        Criterion("cheap_rps", ">=", 1000, "req/s", description="GET /v1/health requests/s"),
        Criterion("fuzz_failures", "==", 0, description="schemathesis: 5xx or responses off the schema"),
    ),
    run=lazy("gates.m11.measure:run"),
    config=config,
    summary="REST/WebSocket API: play sessions, the harness, keys, OpenAPI, clients",
)  # fmt: skip
