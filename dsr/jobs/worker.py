"""The RQ worker classes dsr runs, with one fix to how they stop.

RQ's worker listens for commands (``rq.command.send_shutdown_command`` and friends) on a Redis pub/sub
channel in a thread that waits up to 60 s per read. On a warm shutdown RQ sends UNSUBSCRIBE and only then
tells that thread to stop, and redis-py (since 8) waits for the thread. When the thread reads the
UNSUBSCRIBE reply before it has been told, it goes back to waiting for a subscription, for 60 s, and the
worker takes a minute to stop after SIGTERM: a supervisor (or a deploy) would kill it instead. Telling the
thread first makes the reply the last thing it reads.
"""

from __future__ import annotations

from rq import SimpleWorker, Worker


class _StopsPromptly:
    def unsubscribe(self) -> None:
        if self.pubsub_thread is not None:
            self.pubsub_thread.stop(timeout=0)  # clears the thread's running flag; waits for nothing
        super().unsubscribe()


class DsrWorker(_StopsPromptly, Worker):
    """RQ's forking worker (``dsr worker --fork``)."""


class DsrSimpleWorker(_StopsPromptly, SimpleWorker):
    """RQ's in-process worker, dsr's default."""
