"""Django's PostgreSQL backend with a health check that needs no round trip when idle.

With CONN_HEALTH_CHECKS, Django runs `SELECT 1` before the first query of every request
that reuses a connection, so a connection the server closed (a restart, an idle timeout,
an administrator's kill) is replaced instead of failing that request. That round trip
was a sixth of the CPU of `video-url`. A server that closes a connection first sends its
goodbye (or EOF), which makes the idle socket readable; a healthy idle connection has
nothing to read. So: nothing to read means usable, and only when something did arrive is
Django's own `SELECT 1` asked.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper
from psycopg import pq


class DatabaseWrapper(PostgreSQLDatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        # poll, not select: select refuses descriptors above 1023 in a busy process.
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN)
        if not poller.poll(0):
            return True
        return bool(super().is_usable())
