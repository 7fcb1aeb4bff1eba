"""The browsable API documentation, in headless Chromium: Redoc from the addon's static files (no CDN) renders
every route of the OpenAPI document under the page's Content-Security-Policy."""
from odoo.tests import HttpCase, tagged

# In the page: fetch the document, wait until Redoc shows every path of it, then report.
CHECK_EVERY_PATH = """
(async () => {
    const spec = await (await fetch("/api/sales/openapi.json")).json();
    const paths = Object.keys(spec.paths);
    for (let i = 0; i < 200; i++) {
        const text = document.body.innerText;
        const missing = paths.filter((p) => !text.includes(p));
        if (!missing.length && document.querySelectorAll("script[src*='cdn'], link[href*='//']").length === 0) {
            console.log("test successful");
            return;
        }
        if (i === 199) {
            console.error("Redoc does not show " + missing.join(", "));
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
})();
"""


@tagged("post_install", "-at_install")
class TestImportApiDocs(HttpCase):

    def test_the_page_is_served_with_its_own_script(self):
        response = self.url_open("/api/sales/docs/")
        self.assertEqual(response.status_code, 200)
        self.assertIn("text/html", response.headers["Content-Type"])
        self.assertIn("script-src 'self'", response.headers["Content-Security-Policy"])
        self.assertIn('src="/invoice_bridge/static/lib/redoc/redoc.standalone.js"', response.text)
        script = self.url_open("/invoice_bridge/static/lib/redoc/redoc.standalone.js")
        self.assertEqual(script.status_code, 200)
        self.assertGreater(len(script.content), 100_000)

    def test_redoc_shows_every_route(self):
        self.browser_js("/api/sales/docs/", CHECK_EVERY_PATH, ready="!!document.querySelector('redoc')",
                        timeout=90)

    def test_linked_from_the_api_keys_menu(self):
        menu = self.env.ref("invoice_bridge.menu_api_docs")
        self.assertEqual(menu.parent_id, self.env.ref("invoice_bridge.menu_api_key").parent_id)
        self.assertEqual(menu.action.url, "/api/sales/docs/")
