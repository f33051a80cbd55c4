"""The job queue: gate runs submitted over HTTP, run by a bounded pool of workers.

Each attempt is a real `gate run ID --json` in a child process (which, like a `gate all` child,
turns SIGTERM into a written verdict and ledger row) (the same verdict, receipt and ledger row
as on the command line). A crash (exit 4) is retried up to the job's `retries`; a batch has a budget: a
run still going when it is spent is stopped, jobs not started are `skipped`. Cancel stops a job.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from shell.server.store import Store

FINAL = ("passed", "failed", "error", "cancelled", "skipped")


class Jobs:
    def __init__(self, store: Store, workers: int = 1, gates: frozenset[str] | None = None) -> None:
        self.store, self.allowed = store, gates
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="job")
        self._procs: dict[str, subprocess.Popen] = {}
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        for j in store.unfinished_jobs():  # a restart: what was in flight did not finish
            store.update_job(j["id"], state="error", error="server restarted before it finished")

    def submit(self, requests: list[dict], budget_s: float | None, key_id: str | None,
               batch: bool) -> tuple[str | None, list[str]]:  # fmt: skip
        bid = "b_" + secrets.token_hex(6) if batch else None
        if bid:
            self.store.add_batch(bid, budget_s, key_id)
        deadline = time.monotonic() + budget_s if budget_s else None
        ids = []
        for req in requests:
            jid = "j_" + secrets.token_hex(6)
            self.store.add_job(jid, bid, req["gate"], req, key_id)
            ids.append(jid)
        for jid, req in zip(ids, requests, strict=True):
            self._pool.submit(self._run, jid, req, deadline)
        return bid, ids

    def cancel(self, jid: str) -> None:
        with self._lock:
            self._cancelled.add(jid)
            proc = self._procs.get(jid)
        if proc is not None:
            proc.terminate()  # the child we started, by its handle
        job = self.store.get_job(jid)
        if job and job["state"] not in FINAL:
            self.store.update_job(jid, state="cancelled")

    def _run(self, jid: str, req: dict, deadline: float | None) -> None:
        attempts = 0
        while True:
            if jid in self._cancelled:
                return
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                self.store.update_job(jid, state="skipped", error="the batch's budget is spent")
                return
            attempts += 1
            self.store.update_job(jid, state="running", attempts=attempts)
            code, doc, err = self._attempt(jid, req, left)
            if jid in self._cancelled:
                self.store.update_job(jid, state="cancelled", exit_code=code)
                return
            if code == 4 and attempts <= int(req.get("retries", 0)):
                continue
            state = {0: "passed", 1: "failed"}.get(code, "error")
            self.store.update_job(jid, state=state, exit_code=code, result=doc, error=err,
                                  run_id=(doc or {}).get("run_id"))  # fmt: skip
            return

    def _attempt(self, jid: str, req: dict, timeout: float | None) -> tuple[int, Any, str | None]:
        argv = [sys.executable, "-m", "shell", "run", req["gate"], "--json",
                "--seed", str(int(req.get("seed", 0)))]  # fmt: skip
        if req.get("model"):
            argv += ["--model", str(req["model"])]
        for k, v in (req.get("config") or {}).items():
            argv += ["--set", f"{k}={orjson.dumps(v).decode()}"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "GATE_ALL_CHILD": "1"})  # fmt: skip
        with self._lock:
            self._procs[jid] = proc
        try:
            out, errb = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()  # the run writes its verdict (exit 1) and ledger row, then exits
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            return 1, _doc(out), "stopped: over the batch's budget"
        finally:
            with self._lock:
                self._procs.pop(jid, None)
        doc = _doc(out)
        tail = errb.decode(errors="replace").strip().splitlines()[-1:] or [None]
        return proc.returncode, doc, tail[0] if proc.returncode else None

    def close(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for p in procs:
            p.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _doc(out: bytes) -> Any:
    """The child's --json document, or None when it printed none."""
    with contextlib.suppress(orjson.JSONDecodeError):
        return orjson.loads(out) if out and out.strip() else None
    return None
