"""Plain-Python building blocks of invoice_bridge (no ORM): the models orchestrate them.

Everything here is importable and testable without a database.
"""
