"""The import API's browsable documentation: Redoc (shipped in ``static/lib/redoc``, no CDN) rendering the
OpenAPI document that ``/api/sales/openapi.json`` serves."""
from markupsafe import Markup

from odoo import http
from odoo.http import request

REDOC = "/invoice_bridge/static/lib/redoc/redoc.standalone.js"
PAGE = Markup("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>Invoice import API</title>
<style>body { margin: 0; }</style>
</head>
<body>
<redoc spec-url="/api/sales/openapi.json" hide-download-button="false" required-props-first="true"></redoc>
<script src="%s"></script>
</body>
</html>
""") % REDOC
#: the page loads its script and the document from this server only (Redoc's search runs in a blob: worker)
CSP = ("default-src 'self'; script-src 'self' blob:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'")


class ImportApiDocs(http.Controller):

    @http.route("/api/sales/docs/", type="http", auth="none", methods=["GET"], csrf=False, save_session=False)
    def docs(self, **_kwargs):
        return request.make_response(str(PAGE), headers=[
            ("Content-Type", "text/html; charset=utf-8"), ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff")])
