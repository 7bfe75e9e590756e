"""The RQ worker classes dsr runs: they stop within seconds of SIGTERM, finishing or giving back their job.

RQ's warm shutdown waits for the running job however long it takes; systemd kills the worker after
``TimeoutStopSec`` and the job's row would stay "running" until it counts as stale. Here a busy worker gives
its job ``WORKER_STOP_GRACE_SECONDS`` to finish; then the process running it (the worker, or its work-horse
with ``--fork``) gets :data:`STOP_SIGNAL`, the job is interrupted, its transaction rolled back and the job
queued again for the next worker (:func:`dsr.jobs.runner.perform`).

One more fix: RQ's worker listens for commands on a Redis pub/sub channel in a thread that waits up to 60 s
per read. On a warm shutdown RQ sends UNSUBSCRIBE and only then tells that thread to stop, and redis-py
(since 8) waits for the thread. When the thread reads the UNSUBSCRIBE reply before it has been told, it goes
back to waiting for a subscription, for 60 s, and the worker takes a minute to stop. Telling the thread
first makes the reply the last thing it reads.
"""

from __future__ import annotations

import os
import signal
import threading

from rq import SimpleWorker, Worker

from dsr.jobs.runner import interrupt_running_job

# RQ uses SIGALRM for job time limits and SIGRTMIN on Heroku; SIGUSR1 is free. A work-horse inherits the
# handler from the worker it is forked from.
STOP_SIGNAL = signal.SIGUSR1


class _StopsPromptly:
    stop_grace_seconds: float = 7.0

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        signal.signal(STOP_SIGNAL, interrupt_running_job)

    def request_stop(self, signum, frame) -> None:
        super().request_stop(signum, frame)  # idle: raises StopRequested and the work loop ends
        # Busy: RQ waits for the job. Give it the grace time, then make it give its job back.
        timer = threading.Timer(self.stop_grace_seconds, self._interrupt_job)
        timer.daemon = True
        timer.start()

    def _interrupt_job(self) -> None:
        try:
            os.kill(self.horse_pid or os.getpid(), STOP_SIGNAL)
        except ProcessLookupError:
            pass  # the work-horse finished meanwhile

    def unsubscribe(self) -> None:
        if self.pubsub_thread is not None:
            self.pubsub_thread.stop(timeout=0)  # clears the thread's running flag; waits for nothing
        super().unsubscribe()


class DsrWorker(_StopsPromptly, Worker):
    """RQ's forking worker (``dsr worker --fork``)."""


class DsrSimpleWorker(_StopsPromptly, SimpleWorker):
    """RQ's in-process worker, dsr's default."""
