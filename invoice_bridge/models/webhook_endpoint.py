import ast
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import psycopg2.errors

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..lib.core_masking import remember_secrets
from ..lib.core_transport import DEFAULT_TIMEOUT
from ..lib.webhook_headers import MAX_HEADERS, MAX_VALUE_LENGTH, HeaderProblem, parse_static_headers
from ..lib.webhook_payloads import BILL_EVENTS, DEFAULT_PAYLOAD_VERSION, dumps, envelope, shaped
from ..lib.webhook_signer import generate_secret

#: hours the previous secret keeps signing after a rotation, by default and at most (``webhook_rotation_hours``)
DEFAULT_ROTATION_HOURS = 24
MAX_ROTATION_HOURS = 24 * 30
#: an archived endpoint's target is paused this long (until it is unarchived, in practice)
ARCHIVED_PAUSE = timedelta(days=365 * 100)
#: deliveries to one endpoint under way at once, by default and at most (``max_in_flight``)
DEFAULT_MAX_IN_FLIGHT = 4
MAX_IN_FLIGHT = 32
#: days of failures without a success after which an endpoint is disabled (``webhook_disable_after_days``)
DEFAULT_DISABLE_AFTER_DAYS = 5
#: outbox states of messages still to be delivered
WAITING_STATES = ("pending", "in_progress")


class InvoiceBridgeWebhookEndpoint(models.Model):
    """A receiver of invoice events. Messages to it go through the outbox (channel ``webhook``)."""

    _name = "invoice_bridge.webhook.endpoint"
    _description = "Invoice Bridge Webhook Endpoint"
    _inherit = ["mail.thread", "mail.activity.mixin", "invoice_bridge.sync.log.mixin"]
    _order = "company_id, name"

    name = fields.Char(required=True, tracking=True)
    url = fields.Char("URL", required=True, tracking=True, help="http or https URL receiving POST requests.")
    active = fields.Boolean(default=True, tracking=True)
    user_id = fields.Many2one("res.users", "Responsible", default=lambda self: self.env.user, tracking=True,
                              domain="[('share', '=', False)]",
                              help="Told (an activity and a mail) when the endpoint is disabled for failing.")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    event_type_ids = fields.Many2many(
        "invoice_bridge.webhook.event.type", "invoice_bridge_webhook_endpoint_event_rel", "endpoint_id",
        "event_type_id", string="Events",
        default=lambda self: self.env["invoice_bridge.webhook.event.type"].search(
            [("code", "not in", tuple(BILL_EVENTS.values()))]))
    invoice_domain = fields.Char(
        "Only invoices matching", default="[]",
        help="Besides the event types: only the invoices (or bills) matching this filter are announced to this "
             "endpoint, e.g. a journal, partner tags, an amount. Empty: every invoice.")
    payload_version = fields.Selection(
        [("1", "1: seed 000 (event, operations at the top)"), ("2", "2: Standard Webhooks (type, timestamp, data)")],
        "Payload version", required=True, default=DEFAULT_PAYLOAD_VERSION, tracking=True,
        help="The shape of the bodies sent to this endpoint. It stays as it is until you change it: a later "
             "shape comes as a new version, and never reaches a receiver written for this one. Messages already "
             "queued keep the shape they were queued with.")
    static_headers = fields.Text(
        "Extra headers", tracking=True,
        help="Sent with every request to this endpoint, one per line as Name: value (e.g. X-Tenant: acme). "
             "They are stored, shown and logged in clear: no credentials here (the signature authenticates).")
    timeout = fields.Integer("Timeout (s)", default=DEFAULT_TIMEOUT, help="Seconds to wait for an answer.")
    max_in_flight = fields.Integer(
        "Deliveries at once", default=DEFAULT_MAX_IN_FLIGHT,
        help="How many deliveries to this endpoint may be under way at the same time (1: one after the other). "
             "The events of one invoice always arrive one after the other, in order.")
    secret = fields.Char(copy=False, groups="base.group_system", default=lambda self: generate_secret(),
                         help="Standard Webhooks secret (whsec_...): give it to the receiver to verify signatures.")
    previous_secret = fields.Char(copy=False, groups="base.group_system")
    previous_secret_expires_at = fields.Datetime(
        "Previous secret signs until", copy=False, groups="base.group_system",
        help="The rotation window: until then every message carries a signature made with the previous secret "
             "too, so receivers not yet given the new secret still verify. Empty once the window has ended.")
    # health: the engine keeps it on the endpoint's delivery target (a drain never writes the endpoint's row)
    last_success_at = fields.Datetime(compute="_compute_health")
    last_failure_at = fields.Datetime(compute="_compute_health")
    consecutive_failures = fields.Integer(compute="_compute_health")
    last_error = fields.Char(compute="_compute_health")
    failing_since = fields.Datetime(compute="_compute_health", help="When its current run of failures began.")
    paused_until = fields.Datetime(compute="_compute_health",
                                   help="Nothing is sent before then: it asked to slow down, or kept failing.")
    outbox_ids = fields.One2many("invoice_bridge.outbox", "webhook_endpoint_id", string="Deliveries")
    pending_count = fields.Integer("Waiting", compute="_compute_pending_count")

    @api.constrains("url")
    def _check_url(self):
        for endpoint in self:
            parts = urlsplit(endpoint.url or "")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValidationError(_("The URL of %(name)s must start with http:// or https://.",
                                        name=endpoint.name))

    @api.constrains("invoice_domain")
    def _check_invoice_domain(self):
        for endpoint in self:
            try:
                domain = endpoint._invoice_domain()
                self.env["account.move"].sudo().search_count(domain, limit=1)  # unknown fields, bad operators
                self.env["account.move"].browse().filtered_domain(domain)
            except (ValueError, SyntaxError, KeyError, TypeError, AttributeError) as exc:
                raise ValidationError(_("The invoice filter of %(name)s is not a valid filter: %(error)s",
                                        name=endpoint.name, error=exc)) from exc

    def _invoice_domain(self):
        """The invoice filter as a domain (a list), [] when there is none."""
        self.ensure_one()
        domain = ast.literal_eval((self.invoice_domain or "").strip() or "[]")
        if not isinstance(domain, (list, tuple)):
            raise ValueError(_("a filter is a list of conditions"))
        return list(domain)

    def _receivers(self, moves):
        """``{move: the endpoints of ``self`` that announce it}``: those of its company whose invoice filter (if
        any) it matches."""
        accepted = {endpoint: moves.filtered_domain(domain) if (domain := endpoint._invoice_domain()) else moves
                    for endpoint in self}
        return {move: self.filtered(lambda e, move=move: e.company_id == move.company_id and move in accepted[e])
                for move in moves}

    @api.constrains("static_headers")
    def _check_static_headers(self):
        for endpoint in self:
            try:
                endpoint._static_headers()
            except HeaderProblem as problem:
                raise ValidationError(_("Extra headers of %(name)s, line %(line)s: %(problem)s", name=endpoint.name,
                                        line=problem.line, problem=self._header_problem_text(problem))) from problem

    def _header_problem_text(self, problem):
        return {
            "syntax": _("write one header per line as Name: value"),
            "name": _("%s is not a header name (letters, digits and - only)", problem.name),
            "reserved": _("%s is set by the delivery itself", problem.name),
            "secret": _("%s looks like a credential; these headers are stored and shown in clear, and the "
                        "signature already authenticates the messages", problem.name),
            "value": _("the value of %(name)s has control characters or is longer than %(max)s characters",
                       name=problem.name, max=MAX_VALUE_LENGTH),
            "duplicate": _("%s is there twice", problem.name),
            "too_many": _("at most %s headers", MAX_HEADERS),
        }[problem.code]

    def _static_headers(self):
        self.ensure_one()
        return parse_static_headers(self.static_headers)

    @api.constrains("timeout")
    def _check_timeout(self):
        if any(not 1 <= endpoint.timeout <= 120 for endpoint in self):
            raise ValidationError(_("The timeout must be between 1 and 120 seconds."))

    @api.constrains("max_in_flight")
    def _check_max_in_flight(self):
        if any(not 1 <= endpoint.max_in_flight <= MAX_IN_FLIGHT for endpoint in self):
            raise ValidationError(_("Deliveries at once must be between 1 and %s.", MAX_IN_FLIGHT))

    def _target_name(self):
        self.ensure_one()
        return f"webhook:{self.id}"

    def _compute_health(self):
        targets = self.env["invoice_bridge.outbox.target"].sudo().search_fetch(
            [("name", "in", [f"webhook:{endpoint.id}" for endpoint in self if endpoint.id])],
            ["name", "last_success_at", "last_failure_at", "consecutive_failures", "failing_since", "last_error",
             "paused_until"])
        by_name = {target.name: target for target in targets}
        for endpoint in self:
            target = by_name.get(f"webhook:{endpoint.id}") if endpoint.id else None
            endpoint.last_success_at = target.last_success_at if target else False
            endpoint.last_failure_at = target.last_failure_at if target else False
            endpoint.consecutive_failures = target.consecutive_failures if target else 0
            endpoint.last_error = target.last_error if target else False
            endpoint.failing_since = target.failing_since if target else False
            endpoint.paused_until = target.paused_until if target else False

    def _compute_pending_count(self):
        counts = dict(self.env["invoice_bridge.outbox"].sudo()._read_group(
            [("webhook_endpoint_id", "in", self.ids), ("state", "in", WAITING_STATES)],
            ["webhook_endpoint_id"], ["__count"]))
        for endpoint in self:
            endpoint.pending_count = counts.get(endpoint, 0)

    # Override of the Sync button's mixin: an endpoint's lines are those of its deliveries
    def _ib_sync_log_domain(self, ids):
        return [("outbox_id.webhook_endpoint_id", "in", ids)]

    def _compute_ib_sync_log_count(self):
        Log = self.env["invoice_bridge.sync.log"]
        for endpoint in self:
            endpoint.ib_sync_log_count = Log.search_count(self._ib_sync_log_domain(endpoint.ids)) if endpoint.id \
                else 0

    # ------------------------------------------------------------------------------------------ secrets
    def action_open_stats(self):
        """Success rate and p95 latency of this endpoint's deliveries, per day (graph)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("invoice_bridge.webhook_endpoint_stat_action")
        action["domain"] = [("endpoint_id", "=", self.id)]
        action["display_name"] = self.name
        return action

    def action_open_replay(self):
        """Replay since…: the wizard sending this endpoint's messages of a time range again."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("invoice_bridge.webhook_replay_action")
        action["context"] = {"default_endpoint_id": self.id}
        return action

    def action_rotate_secret(self):
        """New secret; the previous one keeps signing (both signatures sent) during the rotation window
        (``webhook_rotation_hours``, 24 by default; 0: it stops at once, e.g. when it has leaked). Administrators
        only, as the secrets themselves."""
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only administrators rotate the signing secret of a webhook endpoint."))
        self._lock_rows()
        hours = min(max(self.env["invoice_bridge.config"]._get("webhook_rotation_hours", DEFAULT_ROTATION_HOURS), 0),
                    MAX_ROTATION_HOURS)
        ends_at = fields.Datetime.now() + timedelta(hours=hours) if hours else False
        for endpoint in self.sudo():
            new_secret = generate_secret()
            remember_secrets([endpoint.secret, new_secret])  # masked in the server log from now on
            endpoint.write({"previous_secret": endpoint.secret, "previous_secret_expires_at": ends_at,
                            "secret": new_secret})
            endpoint.message_post(body=_(
                "Signing secret rotated. Until %(end)s UTC messages carry a signature made with the previous secret "
                "too: give the new secret to the receiver before then.", end=ends_at) if ends_at else _(
                "Signing secret rotated, with no rotation window: the previous secret signs no more."))
        if ends_at:  # the note at the window's end, on time
            self.env.ref("invoice_bridge.ir_cron_webhook_rotation_end").sudo()._trigger(at=ends_at)
        return True

    @api.model
    def _cron_end_rotation_windows(self):
        """The rotation windows that have ended: a note on each endpoint, and the window is closed (the previous
        secret, which signs no more, is kept only so that the logs keep masking it)."""
        ended = self.sudo().with_context(active_test=False).search(
            [("previous_secret_expires_at", "!=", False), ("previous_secret_expires_at", "<=", fields.Datetime.now())])
        for endpoint in ended:
            endpoint.message_post(body=_(
                "The rotation window ended at %s UTC: the previous signing secret signs no more, only the current "
                "one does. A receiver still verifying with the previous secret now refuses every message.",
                endpoint.previous_secret_expires_at))
        ended.write({"previous_secret_expires_at": False})

    def _lock_rows(self):
        """Lock the endpoints' rows with a statement that carries no secret, before writing secrets.

        A concurrent change of a row (another rotation, an edit) then fails here, with a clear message, and
        never in the UPDATE that carries the secrets (Odoo logs a failed statement with its parameters).
        """
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(SQL("SELECT id FROM invoice_bridge_webhook_endpoint WHERE id IN %s "
                                        "FOR UPDATE NOWAIT", tuple(self.ids)), log_exceptions=False)
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure) as exc:
            raise UserError(_("This endpoint is being changed elsewhere right now: try again in a moment.")) from exc

    def _signing_secrets(self):
        self.ensure_one()
        endpoint = self.sudo()
        secrets = [endpoint.secret]
        if endpoint.previous_secret and (endpoint.previous_secret_expires_at or fields.Datetime.now()) > \
                fields.Datetime.now():
            secrets.append(endpoint.previous_secret)
        return [s for s in secrets if s]

    # ----------------------------------------------------------------------------------------- queueing
    @api.model
    def _subscribed(self, event, companies):
        """Active endpoints of ``companies`` receiving ``event`` (cached: this runs on every posting)."""
        return self.sudo().browse(
            endpoint_id for endpoint_id, company_id in self._subscriptions(event) if company_id in companies.ids)

    @tools.ormcache("event")
    def _subscriptions(self, event):
        endpoints = self.sudo().search([("event_type_ids.code", "=", event)])
        return tuple((endpoint.id, endpoint.company_id.id) for endpoint in endpoints)

    @api.model_create_multi
    def create(self, vals_list):
        endpoints = super().create(vals_list)
        self.env.registry.clear_cache()  # _subscriptions
        return endpoints

    def write(self, vals):
        changing = self.filtered(lambda e: e.active != bool(vals["active"])) if "active" in vals else self.browse()
        res = super().write(vals)
        if {"active", "company_id", "event_type_ids", "secret", "previous_secret"} & set(vals):
            self.env.registry.clear_cache()  # _subscriptions, the sync log's known secrets
        if changing:
            changing._hold_or_release_messages()
        return res

    def _hold_or_release_messages(self):
        """Archived: the endpoint's waiting messages are held (its delivery target is paused), never failed.
        Unarchived: they are sent again at once. A note says so on the endpoint."""
        targets = self.env["invoice_bridge.outbox.target"].sudo()
        for endpoint in self:
            waiting = endpoint.pending_count
            if endpoint.active:
                targets.search([("name", "=", endpoint._target_name())]).write(
                    {"paused_until": False, "pause_reason": False})
                body = _("Unarchived: its %s waiting message(s) are sent now.", waiting)
                self.env["invoice_bridge.outbox"]._trigger_drain()
            else:
                targets._pause(endpoint._target_name(), fields.Datetime.now() + ARCHIVED_PAUSE,
                               _("The endpoint is archived"))
                body = _("Archived: its %s waiting message(s) are kept and are sent when the endpoint is "
                         "unarchived; no new event is queued for it meanwhile.", waiting)
            endpoint.message_post(body=body)
        self.invalidate_recordset(["pending_count"])

    def action_archive(self):
        """Odoo's Archive, saying what becomes of the endpoint's messages."""
        waiting = sum(self.mapped("pending_count"))
        super().action_archive()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "warning" if waiting else "info", "sticky": False, "next": {"type": "ir.actions.act_window_close"},
            "message": _("Archived. %s waiting message(s) are kept and sent when you unarchive the endpoint.",
                         waiting)}}

    @api.ondelete(at_uninstall=False)
    def _unlink_except_waiting_messages(self):
        """An endpoint with messages still to deliver can't be deleted (they would fail with nowhere to go)."""
        waiting = self.filtered("pending_count")
        if waiting:
            raise UserError(_(
                "%(names)s still has %(n)s message(s) waiting to be delivered. Archive it instead: its messages "
                "are kept and sent when it is unarchived. Or cancel them in its Deliveries first.",
                names=", ".join(waiting.mapped("name")), n=sum(waiting.mapped("pending_count"))))

    def unlink(self):
        # failed or given-up messages can never be retried once their endpoint is gone: cancel them, with why
        ended = self.env["invoice_bridge.outbox"].sudo().search(
            [("webhook_endpoint_id", "in", self.ids), ("state", "in", ("failed", "dead"))])
        res = super().unlink()
        ended.write({"state": "cancelled", "last_error": _("The endpoint was deleted.")})
        self.env.registry.clear_cache()  # _subscriptions
        return res

    def _enqueue_event(self, event, document, record=None, key_suffix=None, partner=None):
        """Queue one message of ``event`` per endpoint of ``self``, its body ``document`` with the message's id."""
        # random ids are new by construction: only interval keys (reminders) can already be queued
        return self.env["invoice_bridge.outbox"]._enqueue(
            self._event_vals(event, document, record=record, key_suffix=key_suffix, partner=partner),
            check_existing=bool(key_suffix))

    def _event_vals(self, event, document, record=None, key_suffix=None, partner=None):
        """The outbox values of ``event`` for each endpoint of ``self``: ``document`` is the body, its ``id`` the
        message's id (random, or made of ``key_suffix`` so that queueing it twice is a no-op)."""
        vals_list = []
        for endpoint in self:
            msg_id = f"msg_{uuid.uuid4().hex}" if not key_suffix else f"msg_{event}_{endpoint.id}_{key_suffix}"
            vals_list.append({
                "channel": "webhook",
                "target": endpoint._target_name(),
                "url": endpoint.url,
                "payload": dumps(shaped({**document, "id": msg_id}, endpoint.payload_version)),
                "idempotency_key": msg_id,
                "ordering_key": f"webhook:{endpoint.id}:{record._name}:{record.id}" if record else None,
                "res_model": record._name if record else None,
                "res_id": record.id if record else None,
                "partner_id": partner.id if partner else None,
                "company_id": endpoint.company_id.id,
                "webhook_endpoint_id": endpoint.id,
                "webhook_event": event,
            })
        return vals_list

    def action_send_test_event(self):
        for endpoint in self:
            company = endpoint.company_id
            endpoint._enqueue_event("test", envelope("test", [], None, fields.Datetime.now(),
                                                     {"id": company.id, "name": company.name}))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info", "message": _("Test event queued; see the sync log for the answer.")}}

    def action_open_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("invoice_bridge.outbox_action")
        action.update({"domain": [("webhook_endpoint_id", "=", self.id)], "context": {}})
        return action

    # ------------------------------------------------------------------------------------------- health
    def _disable_if_failing_too_long(self):
        """Archive the endpoints that have failed without a single success for ``webhook_disable_after_days``
        (5 days; 0: never), with a note, an activity and a mail for their responsible. Their messages wait."""
        days = self.env["invoice_bridge.config"]._get("webhook_disable_after_days", DEFAULT_DISABLE_AFTER_DAYS)
        if days <= 0:
            return
        limit = fields.Datetime.now() - timedelta(days=days)
        targets = {t.name: t for t in self.env["invoice_bridge.outbox.target"].sudo().search(
            [("name", "in", [e._target_name() for e in self])])}
        for endpoint in self.filtered("active"):
            target = targets.get(endpoint._target_name())
            if not target or not target.failing_since or target.failing_since > limit:
                continue
            endpoint.active = False
            responsible = endpoint.user_id or endpoint.create_uid
            summary = _("Webhook endpoint %s disabled", endpoint.name)
            note = _("Every delivery to %(url)s has failed since %(since)s (%(n)s failures in a row, last: "
                     "%(error)s). The endpoint is archived and its messages wait: fix the receiver, unarchive "
                     "the endpoint, and they are sent.", url=endpoint.url, since=target.failing_since,
                     n=target.consecutive_failures, error=target.last_error or "-")
            endpoint.message_post(body=note, subject=summary, partner_ids=responsible.partner_id.ids,
                                  subtype_xmlid="mail.mt_comment")
            endpoint.activity_schedule("mail.mail_activity_data_warning", user_id=responsible.id,
                                       summary=summary, note=note)

    def _archive_gone(self):
        """The receiver answered 410 Gone: archive the endpoint, with a note."""
        for endpoint in self.filtered("active"):
            endpoint.active = False
            endpoint.message_post(body=_(
                "Archived: the receiver answered 410 Gone. Check the URL with its owner, unarchive the "
                "endpoint, then retry its failed messages."))
