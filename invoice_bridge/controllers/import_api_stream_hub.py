"""The live event stream's hub: ONE listening connection per process and database, fanning events out in memory.

Built like Odoo's bus (``addons/bus/models/bus.py``, ``ImDispatch``): a background thread per database (a greenlet
in the gevent worker, which patches threads) LISTENs on PostgreSQL, sequences the committed events (see
``invoice_bridge.api.event._sequence``), reads each new event ONCE, and hands it to every open stream of its
company. A waiting stream holds no database connection: it waits on its own in-memory queue. The hub also
closes the streams of revoked keys, archived users and deleted Odoo API keys within a few seconds.
"""
import collections
import logging
import selectors
import threading
import time
from contextlib import suppress

from psycopg2.pool import PoolError

import odoo
from odoo import SUPERUSER_ID, api, sql_db
from odoo.service.server import CommonServer
from odoo.tools import SQL

from ..models.import_api_event import NOTIFY_CHANNEL
from .core_http import pg_connection

_logger = logging.getLogger(__name__)

#: seconds between two wake-ups of a database's feed when nothing is notified (also the revocation check)
REVOCATION_CHECK_SECONDS = 2
#: events read at once by the feed
BATCH = 500
MAX_TRY_ON_POOL_ERROR = 10
DELAY_ON_POOL_ERROR = 0.05

stop_event = threading.Event()
CommonServer.on_stop(stop_event.set)


def acquire_cursor(dbname):
    """A short-lived cursor of a connection of Odoo's pool, retried when the pool is exhausted (as the bus does).

    A plain connection, never the registry's cursor: under Odoo's test runner that would be the test transaction,
    which every request of the test server shares (and waits for)."""
    for attempt in range(1, MAX_TRY_ON_POOL_ERROR + 1):
        with suppress(PoolError):
            return sql_db.db_connect(dbname).cursor()
        time.sleep(DELAY_ON_POOL_ERROR * attempt)
    raise PoolError(f"no database connection after {MAX_TRY_ON_POOL_ERROR} attempts")


def frame(seq, event, payload):
    """One event in the Server-Sent Events format."""
    return f"id: {seq}\nevent: {event}\ndata: {payload}\n\n".encode()


def _selector():
    # epoll is not cooperative under gevent: the bus uses poll there too
    if odoo.evented and hasattr(selectors, "PollSelector"):
        return selectors.PollSelector()
    return selectors.DefaultSelector()


class Subscriber:
    """One open stream as the hub sees it: whose it is, and a queue of the events for it."""

    def __init__(self, company_id, key_id=None, uid=None, bearer_index=None):
        self.company_id, self.key_id, self.uid, self.bearer_index = company_id, key_id, uid, bearer_index
        self.queue = collections.deque()
        self.wakeup = threading.Event()
        #: why the stream must end ("revoked"), or None
        self.closed = None

    def push(self, event):
        self.queue.append(event)
        self.wakeup.set()

    def close(self, reason):
        self.closed = reason
        self.wakeup.set()


class Feed(threading.Thread):
    """The events of one database for this process: LISTEN, sequence, read once, fan out."""

    def __init__(self, dbname):
        super().__init__(daemon=True, name=f"invoice_bridge.stream.{dbname}")
        self.dbname = dbname
        self.subscribers = set()
        self.lock = threading.Lock()
        #: the last event sequence number read (None until the first read)
        self.last_seq = None
        self.ready = threading.Event()

    # -------------------------------------------------------------------------------- subscriptions
    def subscribe(self, subscriber):
        with self.lock:
            self.subscribers.add(subscriber)

    def unsubscribe(self, subscriber):
        with self.lock:
            self.subscribers.discard(subscriber)

    def count(self, key_id):
        with self.lock:
            return sum(1 for s in self.subscribers if key_id and s.key_id == key_id)

    # ----------------------------------------------------------------------------------------- loop
    def run(self):
        while not stop_event.is_set():
            try:
                self.loop()
            except Exception:  # noqa: BLE001 - the feed must survive a lost connection: log, wait, start again
                _logger.exception("invoice_bridge: event stream feed of %s failed; restarting", self.dbname)
                self.last_seq = None
                time.sleep(REVOCATION_CHECK_SECONDS)

    def loop(self):
        with sql_db.db_connect(self.dbname).cursor() as listen_cr, _selector() as selector:
            listen_cr.execute(SQL("LISTEN %s", SQL.identifier(NOTIFY_CHANNEL)))
            listen_cr.commit()  # pylint: disable=invalid-commit  # LISTEN takes effect on commit (own cursor)
            connection = pg_connection(listen_cr)
            selector.register(connection, selectors.EVENT_READ)
            self.read_new()
            self.ready.set()
            next_check = time.monotonic() + REVOCATION_CHECK_SECONDS
            while not stop_event.is_set():
                if selector.select(timeout=REVOCATION_CHECK_SECONDS):
                    connection.poll()
                    connection.notifies.clear()
                    self.read_new()
                if time.monotonic() >= next_check:
                    self.check_revocations()
                    next_check = time.monotonic() + REVOCATION_CHECK_SECONDS

    def read_new(self):
        """Sequence what was committed, then read every event after the last one read, once for all streams."""
        with acquire_cursor(self.dbname) as cr:
            events = api.Environment(cr, SUPERUSER_ID, {})["invoice_bridge.api.event"]
            events._sequence()
            if self.last_seq is None:
                self.last_seq = events._last_seq()
                return
            while True:
                rows = events._since(None, self.last_seq, limit=BATCH)
                for row in rows:
                    self.last_seq = row[0]
                    self.fan_out(row)
                if len(rows) < BATCH:
                    break

    def fan_out(self, row):
        """Hand the event to every stream of its company, as ``(seq, frame bytes)`` (encoded once for all)."""
        seq, company_id, event, payload = row
        with self.lock:
            subscribers = [s for s in self.subscribers if s.company_id == company_id]
        if subscribers:
            item = (seq, frame(seq, event, payload))
            for subscriber in subscribers:
                subscriber.push(item)

    def check_revocations(self):
        with self.lock:
            subscribers = list(self.subscribers)
        if not subscribers:
            return
        key_ids = {s.key_id for s in subscribers if s.key_id}
        uids = {s.uid for s in subscribers}
        bearers = {(s.uid, s.bearer_index) for s in subscribers if s.bearer_index}
        with acquire_cursor(self.dbname) as cr:
            events = api.Environment(cr, SUPERUSER_ID, {})["invoice_bridge.api.event"]
            valid_keys, valid_users, valid_bearers = events._valid_credentials(key_ids, uids, bearers)
        for subscriber in subscribers:
            if (subscriber.key_id and subscriber.key_id not in valid_keys) or subscriber.uid not in valid_users or (
                    subscriber.bearer_index and (subscriber.uid, subscriber.bearer_index) not in valid_bearers):
                subscriber.close("revoked")


class Hub:
    """The feeds of this process, one per database, started on the first stream."""

    def __init__(self):
        self.feeds = {}
        self.lock = threading.Lock()

    def feed(self, dbname):
        with self.lock:
            feed = self.feeds.get(dbname)
            if feed is None or not feed.is_alive():
                feed = self.feeds[dbname] = Feed(dbname)
                feed.start()
        return feed


hub = Hub()
