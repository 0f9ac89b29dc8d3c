"""`python scripts/index_inbox.py`: once, after deploying the inbox index (gsi4), give every
open case written before it its inbox entry, and every practitioner's profile its place at the
head of their inbox partition. Uses the app's settings (TABLE_NAME, ...); safe to run again."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from chalicelib.wiring import build_services

    store = build_services().store
    print(f"indexed {store.index_open_cases()} open cases")
    print(f"indexed {store.index_profiles()} practitioner profiles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
