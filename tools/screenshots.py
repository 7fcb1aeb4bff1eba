"""Take the README's screenshots from a running `make demo` (headless Chromium driven by Playwright).

    make screenshots            # or: <venv with playwright>/bin/python tools/screenshots.py [--url ...]

Prepares what the pictures show through Odoo's JSON-RPC (digitizes the demo bill, runs the monthly easybill
export, imports the tour's sample invoice with the demo's API key and returns it to billing), then saves PNGs
into docs/screenshots/. Uses Debian's ``chromium`` (no browser download).
"""
import argparse
import json
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
KEY_FILE = REPO / ".run" / "demo_api_key.txt"  # written by `make demo`
IMPORT_SAMPLE = REPO / "invoice_bridge" / "tests" / "data" / "import_api_seed002_sample.json"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class Demo:
    def __init__(self, page, url):
        self.page, self.url = page, url

    def rpc(self, model, method, *args, **kwargs):
        response = self.page.request.post(f"{self.url}/web/dataset/call_kw", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "params": {
                "model": model, "method": method, "args": list(args), "kwargs": kwargs}}),
            headers={"Content-Type": "application/json"})
        body = response.json()
        if "error" in body:
            raise RuntimeError(f"{model}.{method}: {body['error']['data']['message']}")
        return body["result"]

    def first_id(self, model, domain, order="id desc"):
        ids = self.rpc(model, "search", domain, limit=1, order=order)
        return ids[0] if ids else None

    def open(self, path, wait=".o_view_controller"):
        self.page.goto(self.url + path)
        self.page.wait_for_selector(wait, timeout=60000)
        self.page.wait_for_timeout(1200)  # let the last RPCs render (statusbar, chatter, smart buttons)

    def shot(self, name, selector=None):
        OUT.mkdir(parents=True, exist_ok=True)
        target = self.page.locator(selector).first if selector else self.page
        target.screenshot(path=str(OUT / f"{name}.png"))
        print(f"saved docs/screenshots/{name}.png")

    def wait_until(self, check, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(1)
        return False


def prepare(demo):
    """Bring the demo into the states the pictures show (idempotent)."""
    bill = demo.first_id("account.move", [("move_type", "=", "in_invoice"),
                                          ("message_main_attachment_id", "!=", False)])
    if bill:
        state = demo.rpc("account.move", "read", [bill], ["ib_extract_state"])[0]["ib_extract_state"]
        if state == "no_extract_requested":
            demo.rpc("account.move", "action_ib_digitize", [bill])
        for _ in range(10):  # the parse and the polls are queued: the server's cron sends them
            time.sleep(2)
            state = demo.rpc("account.move", "read", [bill], ["ib_extract_state"])[0]["ib_extract_state"]
            if state == "done":
                break
            demo.rpc("account.move", "action_ib_extract_refresh", [bill])
    if not demo.rpc("invoice_bridge.easybill.export", "search_count", []):
        cron = demo.rpc("ir.model.data", "check_object_reference", "invoice_bridge", "ir_cron_easybill_monthly")[1]
        demo.rpc("ir.cron", "method_direct_trigger", [cron])
    # the drain sends an export's requests after the commit, through the cron: wait until none is left sending
    if not demo.wait_until(lambda: not demo.rpc("invoice_bridge.easybill.export", "search_count",
                                                [("state", "=", "sending")]), timeout=180):
        print("easybill: an export is still sending after 180 s")
    if not demo.first_id("account.move", [("ib_import_state", "!=", False)]) and KEY_FILE.exists():
        # the tour's step 4: the demo imports nothing by itself
        response = demo.page.request.post(
            f"{demo.url}/api/sales/import/invoice/", data=IMPORT_SAMPLE.read_text(),
            headers={"Content-Type": "application/json", "X-API-KEY": KEY_FILE.read_text().strip()})
        print(f"import API: HTTP {response.status}")
    imported = demo.first_id("account.move", [("ib_import_state", "=", "waiting_approval")])
    if imported and not demo.first_id("account.move", [("ib_import_state", "=", "review")]):
        wizard = demo.rpc("invoice_bridge.return.wizard", "create", {
            "move_ids": [(6, 0, [imported])], "reason": "Batch number of PR650 missing; MRP of OTN10 is 88.00"})
        demo.rpc("invoice_bridge.return.wizard", "action_return", [wizard])
    return bill


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    args = parser.parse_args(argv)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(args.url + "/web/login")
        page.fill("input[name=login]", args.login)
        page.fill("input[name=password]", args.password)
        page.click("button[type=submit]")
        page.wait_for_selector(".o_main_navbar", timeout=60000)
        demo = Demo(page, args.url)
        bill = prepare(demo)

        demo.open("/odoo/action-invoice_bridge.sync_log_action")
        demo.shot("sync_log_list")
        dead = demo.first_id("invoice_bridge.sync.log", [("state", "=", "dead")])
        if dead:
            demo.open(f"/odoo/action-invoice_bridge.sync_log_action/{dead}")
            demo.shot("sync_log_failed_entry")
        if bill:
            demo.open(f"/odoo/action-account.action_move_in_invoice_type/{bill}")
            demo.shot("vendor_bill_digitized")
        webhook_line = demo.first_id("invoice_bridge.sync.log", [
            ("move_id.move_type", "=", "out_invoice"), ("move_id.state", "=", "posted"),
            ("move_id.ib_import_state", "=", False), ("channel", "=", "webhook")])
        if webhook_line:
            move = demo.rpc("invoice_bridge.sync.log", "read", [webhook_line], ["move_id"])[0]["move_id"][0]
            demo.open(f"/odoo/action-account.action_move_out_invoice_type/{move}")
            demo.shot("invoice_with_sync_button")
        settings = "div.o_settings_container:has(#ib_outbound)"  # the <block> of Invoice Bridge
        page.set_viewport_size({"width": 1440, "height": 1800})  # the whole block in one picture
        demo.open("/odoo/action-account.action_account_config", wait=settings)
        page.locator(settings).scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        demo.shot("settings", settings)
        page.set_viewport_size({"width": 1440, "height": 900})
        export = demo.first_id("invoice_bridge.easybill.export", [("state", "=", "done")]) or demo.first_id(
            "invoice_bridge.easybill.export", [])
        if export:
            demo.open(f"/odoo/action-invoice_bridge.easybill_export_action/{export}")
            page.locator(".o_notebook a[name=requests]").click()  # the ids above, its delivered requests below
            page.wait_for_selector(".o_notebook .o_field_widget[name=outbox_ids] .o_data_row", timeout=60000)
            page.wait_for_timeout(800)
            demo.shot("easybill_export")
        endpoint = demo.first_id("invoice_bridge.webhook.endpoint", [])
        if endpoint:
            demo.open(f"/odoo/action-invoice_bridge.webhook_endpoint_action/{endpoint}")
            demo.shot("webhook_endpoint")
        review = demo.first_id("account.move", [("ib_import_state", "=", "review")])
        if review:
            demo.open(f"/odoo/action-invoice_bridge.imported_invoice_action/{review}")
            demo.shot("imported_invoice_in_review")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
