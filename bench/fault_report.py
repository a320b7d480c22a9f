"""Run every injected-fault test of the hardening work and print "faults survived x/y".

Each fault test prints ``FAULT|<fault>|survived`` as its last step, so a fault counts as
survived only when its test reached the end with nothing lost and every count exact.

    python3 bench/fault_report.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
S = "functions/session_management/tests/"
A = "functions/audio_transcription/tests/"
T = "functions/translation_pipeline/tests/"
FAULT_TESTS = [
    S + "test_session_faults.py::test_fault_on_attach_after_the_count_went_up_gives_the_slot_back",
    S + "test_session_faults.py::test_fault_on_the_leave_decrement_rolls_the_leave_back",
    S + "test_session_faults.py::test_fault_on_the_disconnect_decrement_restores_the_row_for_the_sweep",
    S + "test_session_faults.py::test_double_faults_are_repaired_by_the_sweep_recount",
    S + "test_session_faults.py::test_join_fault_with_a_failed_give_back_is_repaired_by_the_sweep",
    S + "test_session_delivery.py::test_rate_limiter_outage_limits_but_never_evicts",
    S + "test_session_authorizer.py::test_one_failed_cold_start_fetch_is_retried_within_two_seconds",
    S + "test_session_authorizer.py::test_slow_drip_jwks_hits_the_overall_deadline_and_denies",
    A + "test_audio_processor_handler.py::test_rate_limiter_outage_lets_chunks_through",
    A + "test_audio_stream_worker.py::test_first_chunk_of_a_session_stored_after_the_second_is_fed_first",
    A + "test_audio_stream_worker.py::test_chunk_stored_late_while_no_stream_is_open_is_not_skipped",
    A + "test_audio_stream_worker.py::test_adjacent_chunks_admitted_out_of_order_are_all_fed_in_order",
    T + "test_translation_faults.py::test_translation_non_aws_exception_of_one_post_fails_only_that_connection",
    T + "test_translation_faults.py::test_translation_failed_ledger_write_after_delivery_never_resends",
    T + "test_translation_faults.py::test_translation_failed_ledger_write_with_a_failed_language_resends_nothing_served",
    T + "test_translation_handler.py::test_translation_handler_failed_language_is_retried_alone",
]


def main() -> int:
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", *FAULT_TESTS],
                         cwd=ROOT, capture_output=True, text=True)
    survived = [line.split("|")[1] for line in run.stdout.splitlines() if line.startswith("FAULT|")]
    collected = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    for fault in survived:
        print(f"survived: {fault}")
    # y counts test cases as pytest ran them (a parametrized test is one fault per case).
    total = sum(int(n) for n, word in re.findall(r"(\d+) (passed|failed|error)", collected))
    print(f"faults survived {len(survived)}/{total}  ({collected})")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
