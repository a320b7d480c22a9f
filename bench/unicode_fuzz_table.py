"""Run the arbitrary-unicode property tests of every message handler and print their table:
handler, examples, unhandled exceptions, stored-state changes on rejection.

    python3 bench/unicode_fuzz_table.py            # 1,000 examples per handler
    FUZZ_EXAMPLES=200 python3 bench/unicode_fuzz_table.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["functions/session_management/tests/test_session_unicode_properties.py",
         "functions/audio_transcription/tests/test_audio_unicode_properties.py",
         "functions/session_management/tests/test_session_authorizer.py::test_authorizer_arbitrary_unicode_query_never_raises"]


def main() -> int:
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", *TESTS],
                         cwd=ROOT, capture_output=True, text=True)
    rows = [line.split("|")[1:] for line in run.stdout.splitlines() if line.startswith("FUZZ|")]
    print(f"{'handler':<20} {'examples':>9} {'unhandled':>10} {'state changed':>14}")
    for handler, examples, unhandled, changed in rows:
        print(f"{handler:<20} {examples:>9} {unhandled:>10} {changed:>14}")
    print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:])
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
