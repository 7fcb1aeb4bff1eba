"""The access table of the addon: who may read and write which model, and who may call which HTTP route.

It is the one place where the addon's rights are written down; ``test_core_access.py`` tries every cell as the
user it names, and fails on any difference, on a model or a route of the addon that has no row here, and on a
row whose model or route no longer exists. **A new model or route needs a row** (the test says which).

How to read it
--------------

``MODELS``: one row per model of the addon (every ``invoice_bridge.*`` model of ``ir.model``), one column per kind
of user, each user of company A and of company B (the public user has no company of its own):

* ``manager``: *Accounting / Administrator* (``account.group_account_manager``, implies Invoice Bridge / Manager);
* ``billing``: *Invoicing / Billing* (``account.group_account_invoice``, implies Invoice Bridge / User);
* ``internal``: an internal user with no accounting rights (``base.group_user`` only);
* ``portal``: a portal user (``base.group_portal``);
* ``public``: the public user (``base.public_user``).

A cell holds the model-level rights as four letters, ``r`` read, ``w`` write, ``c`` create, ``u`` unlink, a ``-``
for each right refused: ``"r--u"`` reads and deletes but neither writes nor creates. The other columns:

* ``kind``: ``model`` (a table), ``transient`` (a wizard: a table emptied by the vacuum) or ``abstract`` (no table:
  only the rights are checked, it is never searched);
* ``company``: for a model whose records belong to a company (a ``company_id`` field; for a wizard, the company
  of the invoices it is about), what a user of one company sees of the records of the other one: ``"isolated"``
  (a record rule hides them: a search returns none, ``check_access("read")`` raises), ``"own"`` (a wizard: only
  the user who opened it reads it, whatever its company), ``"shared"`` (nothing hides them: whoever may read the
  model reads both); ``None`` for a model whose records belong to no company.

``EXTENDED_MODELS``: the Odoo models the addon only extends (fields, buttons, overrides): their rights are Odoo's,
so they are out of the table; they are listed so that a new extension is noticed too.

``ROUTES``: one row per HTTP route of the addon, keyed by ``(method, route as declared)``; the cells are the HTTP
status each caller receives over real HTTP:

* ``public``: no credential at all;
* ``portal``, ``internal``, ``billing``, ``manager``: the user of company A, ``Authorization: Bearer <Odoo API key>``;
* ``billing_key`` (``key`` in the header): ``X-API-KEY`` of an ``invoice_bridge.api.key`` of company A whose
  technical user is the billing user.

What each route is sent (the body, a value for a path parameter) is in ``ROUTE_CALLS`` of the test module.
"""

USER_KINDS = ("manager", "billing", "internal", "portal", "public")
RIGHTS = ("read", "write", "create", "unlink")  # the letters r, w, c, u of a cell, in this order
MODEL_COLUMNS = ("kind", "company", *USER_KINDS)
CALLERS = ("public", "portal", "internal", "billing", "billing_key", "manager")

MODELS = {
    # model                                   kind         company     manager  billing  internal  portal  public
    # the engine: the sync log, the outbox, delivery targets, refused requests, the settings reader
    "invoice_bridge.sync.log":               ("model",     "isolated", "r---",  "r---",  "----",   "----", "----"),
    "invoice_bridge.sync.log.mixin":         ("abstract",  None,       "----",  "----",  "----",   "----", "----"),
    "invoice_bridge.outbox":                 ("model",     "isolated", "r---",  "r---",  "----",   "----", "----"),
    "invoice_bridge.outbox.target":          ("model",     None,       "r---",  "r---",  "----",   "----", "----"),
    "invoice_bridge.refused.request":        ("model",     None,       "r---",  "----",  "----",   "----", "----"),
    "invoice_bridge.config":                 ("abstract",  None,       "----",  "----",  "----",   "----", "----"),
    # webhooks
    "invoice_bridge.webhook.endpoint":       ("model",     "isolated", "rwcu",  "r---",  "----",   "----", "----"),
    "invoice_bridge.webhook.event.type":     ("model",     None,       "rwcu",  "r---",  "----",   "----", "----"),
    "invoice_bridge.webhook.preview":        ("transient", "own",      "rwc-",  "rwc-",  "----",   "----", "----"),
    "invoice_bridge.webhook.replay":         ("transient", "own",      "rwc-",  "----",  "----",   "----", "----"),
    "invoice_bridge.webhook.endpoint.stat":  ("model",     "isolated", "r---",  "r---",  "----",   "----", "----"),
    # easybill
    "invoice_bridge.easybill.export":        ("model",     "isolated", "r---",  "r---",  "----",   "----", "----"),
    "invoice_bridge.easybill.export.line":   ("model",     "isolated", "r---",  "r---",  "----",   "----", "----"),
    "invoice_bridge.easybill.export.wizard": ("transient", "own",      "rwc-",  "rwc-",  "----",   "----", "----"),
    # the import API
    "invoice_bridge.api.key":                ("model",     "isolated", "rwcu",  "----",  "----",   "----", "----"),
    "invoice_bridge.api.key.show":           ("abstract",  None,       "r-c-",  "----",  "----",   "----", "----"),
    "invoice_bridge.api.event":              ("model",     "isolated", "r---",  "r---",  "----",   "----", "----"),
    # the kept answers of Idempotency-Key PATCHes: only the API (superuser) and system administrators read them
    "invoice_bridge.api.idempotency":        ("model",     None,       "----",  "----",  "----",   "----", "----"),
    "invoice_bridge.salesman":               ("model",     "isolated", "rwcu",  "r---",  "----",   "----", "----"),
    "invoice_bridge.return.wizard":          ("transient", "own",      "rwc-",  "rwc-",  "----",   "----", "----"),
    "invoice_bridge.import.service":         ("abstract",  None,       "----",  "----",  "----",   "----", "----"),
}

#: Odoo's models the addon only extends: their rights are Odoo's (out of the table)
EXTENDED_MODELS = (
    "account.journal",
    "account.move",
    "account.move.line",
    "iap.account",
    "ir.websocket",  # only the bus channels of bridge users (models/core_bus.py): no field, no right
    "product.template",
    "res.company",
    "res.config.settings",
    "res.groups",  # only _ib_setup_security, the <function> of security/core_security.xml (no field, no right)
    "res.partner",
)

ROUTES = {
    # (method, route)                                                public  portal  internal  billing  key   manager
    ("POST", "/api/sales/import/invoice/"):                         (401,    401,    403,      201,     201,  201),
    # a batch of one: 200 with the item's own 201 inside (an item's refusal is its own result, not the route's)
    ("POST", "/api/sales/import/invoices/"):                        (401,    401,    403,      200,     200,  200),
    ("PATCH", "/api/sales/update/invoice/"):                        (401,    401,    403,      404,     404,  404),
    ("GET", "/api/sales/openapi.json"):                             (200,    200,    200,      200,     200,  200),
    ("GET", "/api/sales/docs/"):                                    (200,    200,    200,      200,     200,  200),
    ("GET", "/api/sales/sse/invoices/"):                            (401,    401,    403,      200,     200,  200),
    # an unknown number: 404 for whoever may read invoices (another company's is unknown too)
    ("GET", "/api/sales/invoice/<path:invoice_no>/"):               (401,    401,    403,      404,     404,  404),
    ("GET", "/api/sales/invoices/"):                                (401,    401,    403,      200,     200,  200),
    # a wrong token: 404 for everyone (the right one, in test_extract.py: 204)
    ("POST", "/invoice_bridge/iap_extract/webhook/<string:token>"): (404,    404,    404,      404,     404,  404),
    # the same for easybill's (the right one, in test_easybill_sync.py: 204)
    ("POST", "/invoice_bridge/easybill/webhook/<int:company_id>/<string:token>"):
                                                                    (404,    404,    404,      404,     404,  404),
}


#: a field whose name looks like a credential (this pattern, in any model, defined by the addon) needs a row here
SECRET_FIELD_PATTERN = r"secret|token|api_?key|passw|nonce|hash|key_index"
SYSTEM = "base.group_system"
#: ``{(model, field): the groups that alone read it}``; ``None``: it only looks like one (the reason beside it).
#: The test also reads, searches and sorts each protected field of company A's record over XML-RPC as the manager
#: and the billing user of A: each must be refused (a search on it would tell the secret letter by letter).
SECRET_FIELDS = {
    ("invoice_bridge.webhook.endpoint", "secret"): SYSTEM,
    ("invoice_bridge.webhook.endpoint", "previous_secret"): SYSTEM,
    ("invoice_bridge.webhook.endpoint", "previous_secret_expires_at"): SYSTEM,  # when it stops: beside the secret
    ("invoice_bridge.api.key", "key_hash"): SYSTEM,
    ("invoice_bridge.api.key", "key_index"): SYSTEM,
    ("res.company", "ib_easybill_api_key"): SYSTEM,
    ("res.company", "ib_easybill_webhook_nonce"): SYSTEM,
    ("res.company", "ib_extract_token"): SYSTEM,
    ("res.config.settings", "ib_easybill_api_key"): SYSTEM,
    ("res.config.settings", "ib_extract_token"): SYSTEM,
    # IAP's name for a document being digitized: it identifies the document, it opens nothing without the token
    ("account.move", "ib_extract_document_token"): None,
    # the key record an invoice was imported with (its name, for the reviewer): never the key itself
    ("account.move", "ib_api_key_id"): None,
}


def model_rows():
    """``{model: {column: value}}`` of :data:`MODELS`."""
    return {model: dict(zip(MODEL_COLUMNS, row, strict=True)) for model, row in MODELS.items()}


def route_rows():
    """``{(method, route): {caller: status}}`` of :data:`ROUTES`."""
    return {key: dict(zip(CALLERS, row, strict=True)) for key, row in ROUTES.items()}
