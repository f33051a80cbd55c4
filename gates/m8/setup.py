"""The one test that matters' set-up time: a fresh clone of this checkout, installed by the README's
command (`uv run` syncs uv.lock on first use) and played until its first generated frame."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

# The variables that would point the clone's `uv run` at this checkout's environment instead of its own.
_FOREIGN = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH")


def time_setup(
    root: Path, model: str, budget_s: float, env_extra: dict[str, str] | None = None
) -> tuple[float | None, str]:
    """-> (seconds from `git clone` to the first frame of `gate play` in the clone, or None when it
    could not be measured; one line saying what happened). The clone lives under root/.gate/tmp (the
    same disk as uv's cache, as a user's would) and is removed afterwards. env_extra: e.g. an empty
    UV_CACHE_DIR, for a first install that downloads every package."""
    uv, git = shutil.which("uv"), shutil.which("git")
    if uv is None or git is None:
        return None, f"not measured: {'uv' if uv is None else 'git'} is not on PATH"
    if not (root / ".git").exists():
        return None, f"not measured: {root} is not a git checkout to clone"
    (root / ".gate" / "tmp").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="m8-setup-", dir=root / ".gate" / "tmp"))
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN} | (env_extra or {})
    steps = (
        [git, "clone", "--quiet", str(root), str(tmp / "wg")],
        [uv, "run", "--locked", "--quiet", "gate", "play", "--keys", "RIGHT", "--model", model,
         "--threads", "2"],
    )  # fmt: skip
    t0 = time.perf_counter()
    try:
        for cmd, cwd in zip(steps, (tmp, tmp / "wg"), strict=True):
            left = budget_s - (time.perf_counter() - t0)
            out = _run(cmd, cwd, env, left)
            if out is None:
                return (
                    budget_s,
                    f"stopped after {budget_s:.0f} s: {' '.join(cmd[:3])} had not finished",
                )
            if out.returncode != 0:
                tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["(no output)"]
                return None, f"not measured: {' '.join(cmd[:3])} exited {out.returncode}: {tail[0]}"
        secs = time.perf_counter() - t0
        if "play: 1 frames" not in out.stdout:
            return (
                None,
                f"not measured: gate play in the clone printed no frame: {out.stdout[-200:]}",
            )
        return secs, f"clone, install and first frame in {secs:.1f} s"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float):
    """subprocess.run in a session of its own, so a timeout or an interrupt stops uv and its children."""
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)  # fmt: skip
    try:
        out, err = p.communicate(timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None
    except BaseException:
        os.killpg(p.pid, signal.SIGKILL)
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)
