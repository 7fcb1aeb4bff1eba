"""Per endpoint and day: attempts, success rate and latency of its deliveries (a view on the sync log)."""
from odoo import fields, models, tools
from odoo.tools import SQL


class InvoiceBridgeWebhookEndpointStat(models.Model):
    """One row per endpoint and day, read from the attempt lines of the sync log (nothing is stored); its id
    is made of both, so a row keeps its id while other rows come and go.

    A row's rate and percentile are exact for its day; grouped by week or month, the graph shows the mean of
    the daily rates and the highest daily p95.
    """

    _name = "invoice_bridge.webhook.endpoint.stat"
    _description = "Invoice Bridge Webhook Endpoint Statistics"
    _auto = False
    _order = "day desc, endpoint_id"
    _rec_name = "day"

    endpoint_id = fields.Many2one("invoice_bridge.webhook.endpoint", "Endpoint", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    day = fields.Date(readonly=True)
    attempts = fields.Integer(readonly=True, aggregator="sum")
    successes = fields.Integer(readonly=True, aggregator="sum")
    success_rate = fields.Float("Success rate (%)", readonly=True, aggregator="avg", digits=(16, 1))
    p95_ms = fields.Integer("p95 latency (ms)", readonly=True, aggregator="max")
    avg_ms = fields.Integer("Mean latency (ms)", readonly=True, aggregator="avg")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL(
            """CREATE VIEW %(table)s AS (
                SELECT o.webhook_endpoint_id::bigint * 100000
                         + (date_trunc('day', l.create_date)::date - DATE '2000-01-01') AS id,
                       o.webhook_endpoint_id AS endpoint_id, o.company_id,
                       date_trunc('day', l.create_date)::date AS day,
                       count(*) AS attempts,
                       count(*) FILTER (WHERE l.state = 'success') AS successes,
                       round(100.0 * count(*) FILTER (WHERE l.state = 'success') / count(*), 1) AS success_rate,
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY l.duration_ms) AS p95_ms,
                       round(avg(l.duration_ms))::integer AS avg_ms
                  FROM invoice_bridge_sync_log l
                  JOIN invoice_bridge_outbox o ON o.id = l.outbox_id
                 WHERE o.webhook_endpoint_id IS NOT NULL AND l.state != 'pending'
                 GROUP BY o.webhook_endpoint_id, o.company_id, date_trunc('day', l.create_date)
            )""", table=SQL.identifier(self._table)))
