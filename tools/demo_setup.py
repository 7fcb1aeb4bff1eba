# Run by `make demo` inside `odoo-bin shell` (``env`` is provided); idempotent.
# Points the demo at the offline fakes whose URLs `make demo` passes in IB_FAKES, and fills the sync log with
# one delivered, one retrying and one dead message so every state of the UI can be seen.
# ruff: noqa: F821 - ``env`` is provided by odoo-bin shell, which runs this file
import json
import os
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

fakes = json.loads(os.environ["IB_FAKES"])
receiver = fakes["webhook_receiver"]
Outbox = env["invoice_bridge.outbox"]
ICP = env["ir.config_parameter"].sudo()
invoices = env["account.move"].search([("move_type", "=", "out_invoice"), ("state", "=", "posted")], limit=3)


def queue(key, url, invoice, target):
    return Outbox._enqueue({
        "channel": "http", "target": target, "url": url, "idempotency_key": key,
        "payload": json.dumps({"event": "demo", "invoice": invoice.name}),
        "res_model": "account.move", "res_id": invoice.id, "partner_id": invoice.partner_id.id,
        "company_id": invoice.company_id.id,
    })


if invoices and not Outbox.search_count([("idempotency_key", "=like", "demo-%")]):
    queue("demo-delivered", f"{receiver}/demo", invoices[0], "demo-receiver")
    queue("demo-retrying", "http://127.0.0.1:9/unreachable", invoices[1 % len(invoices)], "demo-down")
    schedule = ICP.get_param("invoice_bridge.retry_schedule")
    Outbox._drain(autocommit=True, short_wait=0)
    # one message given up at once, to show a dead line with its Retry button and the note on the invoice
    ICP.set_param("invoice_bridge.retry_schedule", "0")
    queue("demo-dead", "http://127.0.0.1:9/gone", invoices[2 % len(invoices)], "demo-dead")
    Outbox._drain(autocommit=True, short_wait=0)
    ICP.set_param("invoice_bridge.retry_schedule", schedule or False)
# a webhook endpoint on the demo receiver, which is given its secret to verify signatures
Endpoint = env["invoice_bridge.webhook.endpoint"].with_context(active_test=False)
endpoint = Endpoint.search([("name", "=", "Demo receiver")], limit=1) or Endpoint.create(
    {"name": "Demo receiver", "url": f"{receiver}/webhook"})
endpoint.write({"url": f"{receiver}/webhook", "active": True})
requests.post(f"{receiver}/_fake/behaviour", json={"secrets": [endpoint.secret]}, timeout=10).raise_for_status()
# the URLs in the payloads (pdf_url, attachments) and the PDF renderer point at the demo server
demo_url = os.environ.get("IB_DEMO_URL", "http://127.0.0.1:8069")
ICP.set_param("web.base.url", demo_url)
ICP.set_param("web.base.url.freeze", "True")
ICP.set_param("report.url", demo_url)
if invoices and not Outbox.search_count([("channel", "=", "webhook")]):
    invoices[:1].action_ib_send_webhook()  # delivered by the server's cron as soon as it starts
# vendor bill digitization against the fake Extract API, with a sample bill ready to digitize
env.company.ib_extract_endpoint = fakes["iap_extract"]
env.ref("base.EUR").active = True
Partner = env["res.partner"]
if not Partner.search_count([("vat", "=", "BE0477472701")]):
    Partner.create({"name": "Wood Corner", "vat": "BE0477472701", "supplier_rank": 1})
Tax = env["account.tax"]
if not Tax.search_count([("type_tax_use", "=", "purchase"), ("amount", "=", 21), ("amount_type", "=", "percent")]):
    Tax.create({"name": "21% (purchase, demo)", "amount": 21, "amount_type": "percent", "type_tax_use": "purchase"})
SAMPLE_NAME = "wood-corner-WC-2026-117.pdf"
Attachment = env["ir.attachment"]
if not Attachment.search_count([("name", "=", SAMPLE_NAME), ("res_model", "=", "account.move")]):
    bill = env["account.move"].create({"move_type": "in_invoice"})
    data = Path(os.environ["IB_REPO"]) / "invoice_bridge" / "tests" / "data"
    sample = (data / "extract_sample_bill.pdf").read_bytes()
    bill.message_main_attachment_id = Attachment.create({
        "name": SAMPLE_NAME, "raw": sample, "mimetype": "application/pdf", "res_model": "account.move",
        "res_id": bill.id})
env.cr.commit()
print(f"demo data ready: {Outbox.search_count([])} outbox messages, receiver at {receiver}")

# ---- monthly easybill export: the fake easybill API, a collector journal and last month's services

company = env.company
company.write({"ib_easybill_enabled": True, "ib_easybill_url": fakes["easybill"],
               "ib_easybill_api_key": fakes["easybill_api_key"], "ib_easybill_rate_limit": "60"})
company.partner_id.tz = company.partner_id.tz or "Europe/Berlin"
Journal = env["account.journal"]
collector = Journal.search([("code", "=", "EBS"), ("company_id", "=", company.id)], limit=1) or Journal.create({
    "name": "Services invoiced in easybill", "code": "EBS", "type": "sale", "ib_easybill": True,
    "company_id": company.id})
Product = env["product.product"]
storage = Product.search([("default_code", "=", "SRV-LAGER")], limit=1) or Product.create({
    "name": "Lagerung (Palettenplatz)", "default_code": "SRV-LAGER", "type": "service", "list_price": 12.5})
fee = Product.search([("default_code", "=", "FEE-STORNO")], limit=1) or Product.create({
    "name": "Stornogebühr", "default_code": "FEE-STORNO", "type": "service", "list_price": 30,
    "ib_cancellation_fee": True})
last_month_day = date.today().replace(day=1) - timedelta(days=10)
Move = env["account.move"]
if not Move.search_count([("journal_id", "=", collector.id)]):
    customers = Partner.search([("is_company", "=", True), ("country_id", "!=", False),
                                ("id", "!=", company.partner_id.id)], limit=3)
    for i, customer in enumerate(customers):
        Move.create({
            "move_type": "out_invoice", "partner_id": customer.id, "journal_id": collector.id,
            "invoice_date": last_month_day, "date": last_month_day,
            "invoice_line_ids": [
                (0, 0, {"product_id": storage.id, "quantity": 10 + i, "price_unit": 12.5,
                        "name": f"Lagerung {last_month_day:%m/%Y}; Halle \"Süd\""}),
                (0, 0, {"product_id": fee.id, "quantity": 1, "price_unit": 30, "name": "Storno Auftrag 4711"}),
            ]})
# the tour's step 3 is still to do when the demo starts: the monthly cron (due at once after the install) waits
# for the next 1st of the month in the company's time zone, instead of exporting last month right after start-up
tz = ZoneInfo(company.partner_id.tz or "Europe/Berlin")
first_next = (date.today().replace(day=1) + timedelta(days=32)).replace(day=1)
nextcall = datetime.combine(first_next, time(0, 5), tz).astimezone(timezone.utc).replace(tzinfo=None)
env.ref("invoice_bridge.ir_cron_easybill_monthly").sudo().nextcall = nextcall
# step 2 posts an ordinary draft customer invoice of the normal sales journal (the collector's drafts are
# easybill's, never confirmed from Odoo)
sales = Journal.search([("type", "=", "sale"), ("ib_easybill", "=", False), ("company_id", "=", company.id)],
                       limit=1)
DRAFT_REF = "Demo: confirm me (tour step 2)"
if sales and not Move.search_count([("ref", "=", DRAFT_REF)]):
    customer = Partner.search([("is_company", "=", True), ("id", "!=", company.partner_id.id)], limit=1)
    Move.create({
        "move_type": "out_invoice", "partner_id": customer.id, "journal_id": sales.id, "ref": DRAFT_REF,
        "invoice_date": date.today(),
        "invoice_line_ids": [(0, 0, {"product_id": storage.id, "quantity": 4, "price_unit": 12.5,
                                     "name": "Lagerung (Palettenplatz), this month"})]})
env.cr.commit()
print(f"easybill: the monthly export runs next at {nextcall} UTC; a draft invoice in {sales.name} for step 2")

# ---- import API: a technical user and a key for the curl examples of the tour (shown once, kept in .run/)
billing = env.ref("account.group_account_invoice")
Users = env["res.users"].with_context(active_test=False)
tech = Users.search([("login", "=", "demo_import_api")], limit=1) or Users.create({
    "name": "Demo ERP (technical user)", "login": "demo_import_api", "email": "erp@example.com",
    "company_id": company.id, "company_ids": [(6, 0, company.ids)],
    ("group_ids" if "group_ids" in Users._fields else "groups_id"):  # 19.0 / 18.0
        [(6, 0, [billing.id, env.ref("base.group_user").id])]})
Keys = env["invoice_bridge.api.key"].with_context(active_test=False)
key_record = Keys.search([("name", "=", "Demo ERP")], limit=1) or Keys.create(
    {"name": "Demo ERP", "company_id": company.id, "user_id": tech.id})
key_file = Path(os.environ["IB_REPO"]) / ".run" / "demo_api_key.txt"
known = key_file.read_text().strip() if key_file.exists() else ""
if not (known and Keys._authenticate(known) == key_record):
    key_file.write_text(key_record._generate_key() + "\n")
env.cr.commit()
print(f"import API key for the tour: {key_file}")
