"""One wake-up timer for Snakemake's scheduling loop (applied by rules/common.smk).

Snakemake 9.27.1 (the pinned version) ends every pass of its scheduling loop
(``JobScheduler.schedule``, snakemake/scheduling/job_scheduler.py:397) with
``_schedule_reevalutation(timespan)``: a fresh ``threading.Timer`` whose firing starts the
next pass, so that jobs held back by the job-rate limit (``--max-jobs-per-timespan``,
default 100/1s) get another chance. A pass started by anything else (a job finishing, an
error) also ends by starting a timer, and that timer's pass starts another: every such event
adds a chain of wake-ups that never ends. After n events the loop runs n passes a second
until the run ends. Measured on the paper smoke run (206 jobs, 2 cores): 227,000 timer
threads in 30 min and the Snakemake process busy 24 % of a core while a single job ran.
Upstream: snakemake/snakemake#3744 (the loop re-run before the rate limit's timespan).

:func:`keep_one_wakeup_pending` keeps at most one such timer pending per scheduler. The
limiter is untouched, and the loop still wakes within one timespan of any pass, which is all
the re-evaluation needs: each pass looks at every ready job. Only the pinned version is
patched; for any other the function changes nothing and returns False (the Snakefile then
warns).
"""

from __future__ import annotations

import threading

#: the Snakemake version whose scheduler this was read against
PATCHED_VERSION = "9.27.1"


def keep_one_wakeup_pending(job_scheduler: type, version: str) -> bool:
    """Replace ``job_scheduler._schedule_reevalutation`` by one that starts a timer only when
    none is pending. Returns whether it patched (``version`` is Snakemake's)."""
    original = getattr(job_scheduler, "_schedule_reevalutation", None)
    if version != PATCHED_VERSION or original is None:
        return False
    if getattr(original, "keeps_one_pending", False):
        return True

    def schedule_reevaluation(self, delay) -> None:
        with _LOCK:
            if getattr(self, "_wakeup_pending", False):
                return
            self._wakeup_pending = True

        def wake() -> None:
            with _LOCK:
                self._wakeup_pending = False
            self._open_jobs.release()

        threading.Timer(delay, wake).start()

    schedule_reevaluation.keeps_one_pending = True
    job_scheduler._schedule_reevalutation = schedule_reevaluation
    return True


_LOCK = threading.Lock()
