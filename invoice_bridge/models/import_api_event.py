import json

from odoo import api, fields, models
from odoo.tools import SQL

#: the PostgreSQL channel announcing new and newly sequenced events (delivered on commit, dropped on rollback)
NOTIFY_CHANNEL = "invoice_bridge_api_event"
#: the sequence numbering events in the order they became visible (the stream's event ids)
SEQUENCE = "invoice_bridge_api_event_seq_seq"
#: the advisory lock serialising the sequencers of every process
SEQUENCER_LOCK = 7_402_117_311
EVENT_TYPES = [
    ("invoice_created", "Invoice created"),
    ("invoice_review", "Invoice returned to billing"),
    ("invoice_updated", "Invoice updated"),
]


class InvoiceBridgeApiEvent(models.Model):
    """A stored event of the import API's live stream: it outlives Odoo's bus, so a client can resume.

    Two transactions that emit events can commit in the other order than their rows' ids: a reader of "every id
    above the last one read" would miss the first. So events are numbered a second time, once committed, in the
    order they become visible: ``seq``, given by one sequencer at a time (an advisory lock) and announced by
    NOTIFY. Streams send ``seq`` as the event id and resume after it (``Last-Event-ID``).
    """

    _name = "invoice_bridge.api.event"
    _description = "Invoice Bridge Import API Event"
    _order = "id desc"

    seq = fields.Integer("Event id", readonly=True, index="btree_not_null", copy=False,
                         help="The id the event stream sends: events in the order they were committed.")
    event = fields.Selection(EVENT_TYPES, required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    move_id = fields.Many2one("account.move", "Invoice", readonly=True, index="btree_not_null",
                              ondelete="set null")
    payload = fields.Text(readonly=True, help="The JSON data of the event.")

    def init(self):
        result = super().init()
        self.env.cr.execute(SQL("CREATE SEQUENCE IF NOT EXISTS %s", SQL.identifier(SEQUENCE)))
        self.env.cr.execute(SQL("""CREATE UNIQUE INDEX IF NOT EXISTS invoice_bridge_api_event_seq_uniq
                                   ON invoice_bridge_api_event (seq)"""))
        return result

    @api.model
    def _emit(self, event, moves):
        """Store one event per invoice and announce it to every worker on commit (other channels may extend
        this: the webhooks announce these events too)."""
        if not moves:
            return self.browse()
        events = self.sudo().create([{
            "event": event, "company_id": move.company_id.id, "move_id": move.id,
            "payload": json.dumps(move._ib_import_data(), default=str),
        } for move in moves])
        self.env.cr.execute(SQL("SELECT pg_notify(%s, 'new')", NOTIFY_CHANNEL))
        return events

    # ------------------------------------------------------------------------------- the stream's side
    @api.model
    def _sequence(self):
        """Number the committed events that have no ``seq`` yet, in id order, and commit (own cursor only).

        Runs in READ COMMITTED under an advisory lock, so sequencers of several processes never interleave: when
        a number is visible, every smaller one is. Returns how many were numbered (0 when another process holds
        the lock: it announces its numbers itself).
        """
        cr = self.env.cr
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s)", SEQUENCER_LOCK))
        if not cr.fetchone()[0]:
            cr.rollback()
            return 0
        cr.execute(SQL(
            """WITH todo AS (SELECT id FROM invoice_bridge_api_event WHERE seq IS NULL ORDER BY id FOR UPDATE),
                    numbered AS (SELECT id, nextval(%(sequence)s) AS seq FROM (SELECT id FROM todo ORDER BY id) t)
               UPDATE invoice_bridge_api_event e SET seq = numbered.seq FROM numbered WHERE e.id = numbered.id""",
            sequence=SEQUENCE))
        count = cr.rowcount
        if count:
            cr.execute(SQL("SELECT pg_notify(%s, 'seq')", NOTIFY_CHANNEL))
        cr.commit()  # pylint: disable=invalid-commit  # the stream hub's own cursor, never a request's
        self.invalidate_model(["seq"])
        return count

    @api.model
    def _since(self, company_id, last_seq, limit=100):
        """Sequenced events after ``last_seq`` (of ``company_id``, or of every company when None), oldest first,
        as ``(seq, company id, event, payload)`` rows."""
        self.env.cr.execute(SQL(
            """SELECT seq, company_id, event, payload FROM invoice_bridge_api_event
                WHERE seq > %(last)s AND (%(company)s IS NULL OR company_id = %(company)s)
                ORDER BY seq LIMIT %(limit)s""", last=last_seq or 0, company=company_id, limit=limit))
        return self.env.cr.fetchall()

    @api.model
    def _last_seq(self, company_id=None):
        self.env.cr.execute(SQL(
            """SELECT COALESCE(max(seq), 0) FROM invoice_bridge_api_event
                WHERE %(company)s IS NULL OR company_id = %(company)s""", company=company_id))
        return self.env.cr.fetchone()[0]

    @api.model
    def _valid_credentials(self, key_ids, uids, bearers):
        """Which of these are still valid: integration keys, users, and Odoo API keys ``(uid, index)``."""
        keys, users, pairs = set(), set(), set()
        if key_ids:
            self.env.cr.execute(SQL("""SELECT k.id FROM invoice_bridge_api_key k JOIN res_users u ON u.id = k.user_id
                                        WHERE k.id IN %s AND k.active AND k.key_hash IS NOT NULL AND u.active""",
                                    tuple(key_ids)))
            keys = {row[0] for row in self.env.cr.fetchall()}
        if uids:
            self.env.cr.execute(SQL("SELECT id FROM res_users WHERE id IN %s AND active", tuple(uids)))
            users = {row[0] for row in self.env.cr.fetchall()}
        if bearers:
            self.env.cr.execute(SQL(
                """SELECT user_id, index FROM res_users_apikeys WHERE (user_id, index) IN %s
                      AND (expiration_date IS NULL OR expiration_date >= now() at time zone 'utc')""",
                tuple(bearers)))
            pairs = {tuple(row) for row in self.env.cr.fetchall()}
        return keys, users, pairs
