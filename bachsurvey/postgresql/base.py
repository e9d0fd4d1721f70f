"""Django's PostgreSQL backend, whose connection health check asks the socket, not the server.

With CONN_HEALTH_CHECKS, Django checks a reused connection at the start of every request that
touches the database by running ``SELECT 1``: a round trip and a statement per request, about a
fifth of the statements of a quiz answer. A connection that PostgreSQL has closed (a restart,
an idle timeout, a terminated backend) has already been told so on its socket: the server's
goodbye or the end of the stream makes the idle socket readable. So the check here polls the
socket without waiting: nothing to read means nothing has happened since the last request, and
the connection is used as it is; anything to read (a goodbye, an end of stream, a notice) falls
back to Django's ``SELECT 1``. What neither check can see is a server that vanished without a
word (a partitioned network); the next statement then fails and the request answers 503
(bachsurvey.db_outage), as it would after a ``SELECT 1`` that passed a moment earlier.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
        except (OSError, ValueError, base.Database.Error):  # no socket any more
            return False
        if readable:  # the server said something while we were idle: ask it properly
            return super().is_usable()
        return True
