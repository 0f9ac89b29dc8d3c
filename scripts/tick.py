"""`make tick JOB=<name>`: run one scheduled function now, against the local stack's data.

The same handler EventBridge (or `make run`'s scheduler) calls; prints its result as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.local_stage import ROOT, local_environment
from scripts.localdb import use_local_credentials


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", nargs="?", help="the scheduled function's name")
    options = parser.parse_args()
    os.environ.update(local_environment())
    use_local_credentials()
    os.chdir(ROOT)
    import app as application
    from scripts.scheduler import jobs_of, run_job

    jobs = {job.name: job for job in jobs_of(application.app)}
    if options.job not in jobs:
        print(f"JOB must be one of: {', '.join(sorted(jobs))}", file=sys.stderr)
        return 2
    ok, result = run_job(jobs[options.job], datetime.now(UTC))
    print(json.dumps({"job": options.job, "ok": ok, "result": result}, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
