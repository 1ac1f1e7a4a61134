from __future__ import annotations

from jobsync.cli import main

main()
