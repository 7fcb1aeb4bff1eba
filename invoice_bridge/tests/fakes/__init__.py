"""Offline loopback fakes (webhook receiver, IAP Extract, easybill) and plain-Python fixtures (the webhook schema),
used by the addon's tests, the pytest tier, the benchmarks and the demo. Nothing here imports Odoo."""
