"""A process's own peak resident memory, as the kernel keeps it for its address space.

Not `getrusage`: Linux carries the parent's high-water mark across fork + exec into the child's
`ru_maxrss` (exec_mmap folds the forked copy's mark into the new program's), so a night started
by a bench process that had just built a 10 GB book reported 10 GB of its own. That was the
"first-night peak" of 12.75 GB (W1M-360) and 9.1 GB (W1M): only the first night of a fresh book
is started by the process that built it. `VmHWM` belongs to the program's own address space.
"""

from __future__ import annotations

import resource
from pathlib import Path


def own_peak_mb(pid: int | str = "self") -> float | None:
    """VmHWM of `pid` (this process by default) in MB; getrusage where there is no /proc."""
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    if pid != "self":
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
