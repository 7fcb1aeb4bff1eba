"""Regenerate ``tests/data/extract_sample_bill.pdf``: a one-page vendor bill from Wood Corner (reproducible bytes).

    python3 tools/fakes.py extract_make_sample_bill [--out PATH]

Uses reportlab (an Odoo dependency, so in the project's virtualenv); ``invariant`` keeps the output identical
from run to run (no creation date, fixed document id). The content matches ``iap_extract.DEFAULT_RESULT``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

OUT = Path(__file__).resolve().parent.parent / "data" / "extract_sample_bill.pdf"

SUPPLIER = ["Wood Corner", "Rue de la Loi 16", "1000 Brussels, Belgium", "VAT: BE0477472701"]
CUSTOMER = ["My Company", "Chaussee de Namur 40", "1367 Ramillies, Belgium"]
LINES = [("Desk", 1, 100.00, "21%", 100.00)]


def build(out: Path) -> int:
    canvas = Canvas(str(out), pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle("Vendor bill WC-2026-117")
    canvas.setAuthor("Wood Corner")
    width, height = A4
    left, right = 50, width - 50

    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(left, height - 60, SUPPLIER[0])
    canvas.setFont("Helvetica", 10)
    for number, text in enumerate(SUPPLIER[1:], start=1):
        canvas.drawString(left, height - 60 - 14 * number, text)
    for number, text in enumerate(CUSTOMER):
        canvas.drawString(340, height - 130 - 14 * number, text)

    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(left, height - 200, "INVOICE WC-2026-117")
    canvas.setFont("Helvetica", 10)
    canvas.drawString(left, height - 220, "Invoice date: 2026-11-02")
    canvas.drawString(left, height - 234, "Due date: 2026-12-02")

    top = height - 280
    canvas.setFont("Helvetica-Bold", 10)
    for x, title in ((left, "Description"), (260, "Quantity"), (330, "Unit price"), (410, "VAT"),
                     (right - 60, "Amount")):
        canvas.drawString(x, top, title)
    canvas.line(left, top - 4, right, top - 4)
    canvas.setFont("Helvetica", 10)
    for number, (description, quantity, unit_price, vat, amount) in enumerate(LINES, start=1):
        y = top - 18 * number
        canvas.drawString(left, y, description)
        canvas.drawRightString(300, y, f"{quantity}")
        canvas.drawRightString(385, y, f"{unit_price:.2f}")
        canvas.drawString(410, y, vat)
        canvas.drawRightString(right, y, f"{amount:.2f}")

    y = top - 18 * len(LINES) - 30
    totals = (("Untaxed amount", "100.00 EUR"), ("VAT 21%", "21.00 EUR"), ("Total", "121.00 EUR"))
    for label, amount in totals:
        canvas.setFont("Helvetica-Bold" if label == "Total" else "Helvetica", 10)
        canvas.drawString(360, y, label)
        canvas.drawRightString(right, y, amount)
        y -= 16

    canvas.setFont("Helvetica", 9)
    canvas.drawString(left, 90, "Payment: within 30 days by bank transfer, reference WC-2026-117")
    canvas.drawString(left, 76, "IBAN: BE68539007547034    BIC: GEBABEBB (BNP Paribas Fortis, Brussels)")
    canvas.showPage()
    canvas.save()
    return out.stat().st_size


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    size = build(args.out)
    sys.stdout.write(f"{args.out} ({size} bytes)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
