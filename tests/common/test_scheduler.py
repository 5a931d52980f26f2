"""The cap on Snakemake's scheduler wake-up timers (xairepro/common/scheduler.py)."""

from __future__ import annotations

import inspect
import threading
import time

import snakemake
from snakemake.scheduling.job_scheduler import JobScheduler

from xairepro.common.scheduler import PATCHED_VERSION, keep_one_wakeup_pending


class Loop:
    """The two members of Snakemake's JobScheduler that the patched method touches, with the
    original method's behaviour: every call starts a timer that releases the loop once."""

    def __init__(self):
        self._open_jobs = threading.Semaphore(0)

    def _schedule_reevalutation(self, delay):
        threading.Timer(delay, self._open_jobs.release).start()


def releases(loop: Loop, expected: int, timeout: float = 10.0, settle: float = 0.3) -> int:
    """The releases the loop got: waits (up to ``timeout``, for a busy machine) until
    ``expected`` came, then ``settle`` s more for any extra one."""
    n, end = 0, time.monotonic() + timeout
    while n < expected and time.monotonic() < end:
        if loop._open_jobs.acquire(timeout=0.05):
            n += 1
    time.sleep(settle)
    while loop._open_jobs.acquire(blocking=False):
        n += 1
    return n


def test_unpatched_every_pass_adds_a_wakeup():
    loop = Loop()
    for _ in range(20):  # twenty passes, e.g. twenty jobs finishing
        loop._schedule_reevalutation(0.05)
    assert releases(loop, 20) == 20


def test_patched_one_wakeup_is_pending_at_a_time_and_the_next_pass_arms_the_next():
    cls = type("PatchedLoop", (Loop,), {})
    assert keep_one_wakeup_pending(cls, PATCHED_VERSION)
    loop = cls()
    for _ in range(20):
        loop._schedule_reevalutation(0.05)
    assert releases(loop, 1) == 1
    loop._schedule_reevalutation(0.05)  # the pass that wake started arms a new timer
    assert releases(loop, 1) == 1
    other = cls()  # per scheduler, not per class
    other._schedule_reevalutation(0.05)
    loop._schedule_reevalutation(0.05)
    assert releases(other, 1) == 1 and releases(loop, 1) == 1
    assert keep_one_wakeup_pending(cls, PATCHED_VERSION)  # patching twice keeps the one patch


def test_another_snakemake_version_is_left_alone():
    cls = type("OtherLoop", (Loop,), {})
    assert not keep_one_wakeup_pending(cls, "10.0.0")
    assert cls._schedule_reevalutation is Loop._schedule_reevalutation


def test_the_pinned_snakemake_is_the_version_read_and_still_rearms_a_timer_every_pass():
    """Bumping the pin fails here until scheduler.py is read against the new loop."""
    assert snakemake.__version__ == PATCHED_VERSION
    loop = inspect.getsource(JobScheduler.schedule)
    assert "self._schedule_reevalutation(self.job_rate_limiter.timespan)" in loop
    assert "threading.Timer(" in inspect.getsource(JobScheduler._schedule_reevalutation) or \
        getattr(JobScheduler._schedule_reevalutation, "keeps_one_pending", False)
