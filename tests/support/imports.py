"""What a program imports, seen from a fresh interpreter (nothing this test process already
imported counts)."""

from __future__ import annotations

import json
import subprocess
import sys


def packages_loaded_by(program: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after running ``program``."""
    report = "\nimport json as _json, sys as _sys\n"
    report += "print(_json.dumps(sorted({name.split('.')[0] for name in _sys.modules})))\n"
    ran = subprocess.run(
        [sys.executable, "-c", program + report], capture_output=True, text=True, check=True
    )
    return set(json.loads(ran.stdout.splitlines()[-1]))
