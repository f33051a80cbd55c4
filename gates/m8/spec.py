"""Gate m8's fixed measures (definitions in gates/m8/__init__.py); light, imported by the declaration."""

FPS = 8.0  # the roadmap's critical threshold (its RTX 3060 row), asked here of a 2-core CPU with no GPU
MEMORY_GB = 8.0  # the roadmap's VRAM budget; on the CPU the process's peak RSS is held to it
FILE_GB = 2.0  # the one test that matters: a model file under 2 GB
SETUP_MINUTES = (
    10.0  # the one test that matters: clone, install and a first frame in under 10 minutes
)
CPU_SHARE = 0.5  # playing on a GPU: under half of one core busy (the roadmap's cpu_percent < 50)
THREADS = (1, 2)  # CPU rows of the tiers table; the criterion reads the 2-thread row (this machine)
FRAMES = 120  # timed frames per row: 4 s of play at 30 FPS, enough for a stable p95
WARMUP = 10  # frames played before timing: first calls allocate and pick kernels
# The roadmap's tiers (functional-milestones, Milestone 7): FPS a GPU of that class must reach. A row of
# the table is labelled with the best tier whose FPS it reaches on *this* device, not with a GPU it ran on.
TIERS = (("RTX 4090 class", 30.0), ("RTX 4080 class", 25.0), ("RTX 3070 class", 15.0),
         ("RTX 3060 class", 8.0))  # fmt: skip
