"""Who works the queues: the Celery workers that answer, the queues each consumes (is anyone on
`gpu`, where batches are sampled, and on `render`, where their pieces are rendered?), and the
messages waiting in each queue, for the batch admin.

Asked of the broker with short timeouts, so a dead broker costs the page about two seconds, not
a hang: one connection attempt, then one broadcast whose replies are collected for
INSPECT_TIMEOUT_S. A queue's waiting messages are counted by kombu's passive queue declaration,
which on Redis is LLEN of the queue's lists (one per priority step); a queue no message ever
reached has no list, and counts as empty. Without a broker (CELERY_BROKER_URL unset) tasks run
in the process that queues them, and there is nothing to ask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

CONNECT_TIMEOUT_S = 1.0
INSPECT_TIMEOUT_S = 1.0
NO_BROKER = "no broker configured: tasks run in-process"
BATCH_QUEUES = ("gpu", "render")  # a batch is sampled on the first, its pieces rendered on the next


@dataclass(frozen=True)
class QueueStatus:
    """The queues, who consumes them and what waits in them; ``error`` when the broker failed."""

    broker: bool
    workers: dict[str, list[str]] = field(default_factory=dict)  # worker name -> its queues
    waiting: dict[str, int] = field(default_factory=dict)  # queue -> messages waiting
    error: str = ""

    def consumers(self, queue: str) -> list[str]:
        return sorted(name for name, queues in self.workers.items() if queue in queues)

    def rows(self) -> list[tuple[str, int, list[str]]]:
        """Per queue: its name, the messages waiting in it, the workers consuming it."""
        return [(queue, count, self.consumers(queue)) for queue, count in self.waiting.items()]

    def summary(self) -> str:
        """One line: the state of the queues a batch goes through (gpu, then render)."""
        if not self.broker:
            return NO_BROKER
        if self.error:
            return f"the broker does not answer: {self.error}"
        return "; ".join(self._line(queue) for queue in BATCH_QUEUES)

    def _line(self, queue: str) -> str:
        found = self.consumers(queue)
        who = f"{len(found)} worker(s) consume the {queue} queue" if found else ""
        waiting = self.waiting.get(queue, 0)
        return f"{who or f'NO worker consumes {queue}'}; {waiting} message(s) waiting there"


def configured_queues() -> list[str]:
    """The queues tasks are sent to: the routes' (gpu) and Celery's default."""
    from bachsurvey import celery_app

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted(routed | {celery_app.conf.task_default_queue})


def queue_status() -> QueueStatus:
    """Ask the broker; never raises for a broker that is down or slow (it says so instead)."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return QueueStatus(broker=False)
    from bachsurvey import celery_app

    timeouts = {"socket_timeout": CONNECT_TIMEOUT_S, "socket_connect_timeout": CONNECT_TIMEOUT_S}
    try:
        with celery_app.connection_for_write(
            url=settings.CELERY_BROKER_URL, transport_options=timeouts
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=CONNECT_TIMEOUT_S)
            replies = celery_app.control.inspect(
                timeout=INSPECT_TIMEOUT_S, connection=conn
            ).active_queues()
            workers = {
                name: sorted(queue["name"] for queue in queues)
                for name, queues in (replies or {}).items()
            }
            names = sorted(set(configured_queues()).union(*workers.values()))
            waiting = {name: _waiting(conn, name) for name in names}
    except Exception as error:  # noqa: BLE001 - any broker failure is shown, never a 500
        return QueueStatus(broker=True, error=f"{type(error).__name__}: {error}"[:300])
    return QueueStatus(broker=True, workers=workers, waiting=waiting)


def _waiting(conn: Any, queue: str) -> int:
    channel = conn.channel()
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except conn.channel_errors:  # no such queue: nothing was ever sent there, or all was taken
        return 0
    finally:
        channel.close()
