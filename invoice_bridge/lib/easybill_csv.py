"""The monthly easybill CSV file: one file per customer and month, one row per invoice position.

No ORM here: the models collect a customer's service lines and call :func:`build_csv`; :func:`validate_csv`,
:func:`check_csv` and :func:`read_csv` check and read a file back (tests, the CSV preview).

Layout — :data:`COLUMNS` is the one definition; the header row is exactly these names, in this order::

    customer_number;company_name;first_name;last_name;street;zip_code;city;country;vat_id;email;
    document_date;service_date_from;service_date_to;position;position_type;item_number;description;
    quantity;unit;net_unit_price;vat_percent

* The customer columns (``customer_number`` … ``email``) and the document columns (``document_date``,
  ``service_date_from``, ``service_date_to``) repeat on every row and must be identical on all of them: a file
  holds one customer and one month. Required: ``customer_number``, ``country`` (ISO 3166-1 alpha-2, upper case,
  e.g. ``DE``), ``company_name`` or ``last_name`` (at least one, as easybill requires), the three dates.
* ``position`` numbers the rows 1, 2, 3, … in order (easybill's ``DocumentPosition.position``), so the order
  survives sorting in a spreadsheet. ``position_type`` is ``service`` or ``cancellation_fee``: a cancellation fee
  is its own row, never merged into a service row. ``description``, ``quantity``, ``net_unit_price`` and
  ``vat_percent`` are required; ``item_number`` and ``unit`` are optional.
* Sign convention: a credit line (e.g. a correction of an earlier month) has a NEGATIVE ``quantity`` and a
  positive price; ``net_unit_price`` is never negative, so the sign of a line lives in one place.

Format decisions:

* Encoding: UTF-8, **without** a byte order mark by default. The file is a machine import for easybill's web
  import, and a BOM becomes part of the first column's name in importers that do not strip it; UTF-8 is
  detected from the content by current Excel (Data → From Text/CSV). A double-click in Excel would garble
  the dot decimals in a German locale anyway, BOM or not. ``build_csv(..., bom=True)`` writes one for a human
  download; :func:`validate_csv` and :func:`read_csv` accept a file with or without it.
* Delimiter ``;`` (the German CSV convention, also Excel's list separator in a German locale); a header row;
  lines end with ``\\r\\n`` (RFC 4180, the ``csv`` module's default); quoting by the stdlib ``csv`` module
  (``QUOTE_MINIMAL``: fields with ``;``, ``"`` or a line break are quoted, ``"`` doubled). Line breaks inside a
  description are kept as they are, inside the quotes.
* Decimals: a dot, no thousands separator, no exponent, never rounded. ``quantity``: as many decimals as it has,
  at most 4 (``3``, ``1.5``, ``0.125``); ``net_unit_price``: at least 2, at most 4 (``75.00``, ``0.0125``);
  ``vat_percent``: exactly 2 (``19.00``). A value with more places is refused, not rounded, so no cent is lost.
* Dates: ISO ``YYYY-MM-DD``.
* Errors name rows as a spreadsheet shows them: the header is row 1, the first position row 2 (a record with a
  line break inside quotes is still one row).

The design card named ``unicodecsv``: that is a Python 2 shim (Python 2's ``csv`` only handled bytes). Python 3's
``csv`` reads and writes ``str`` natively, so this module encodes/decodes UTF-8 itself and needs no extra package.
"""
import contextlib
import csv
import io
import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

TEXT, DECIMAL, DATE, INT, ENUM, COUNTRY = "text", "decimal", "date", "int", "enum", "country"

SERVICE = "service"
CANCELLATION_FEE = "cancellation_fee"
POSITION_TYPES = (SERVICE, CANCELLATION_FEE)

DELIMITER = ";"
LINE_TERMINATOR = "\r\n"
ENCODING = "utf-8"
BOM = b"\xef\xbb\xbf"
#: validate_csv reports at most this many errors (and says how many more there were)
MAX_ERRORS = 100


@dataclass(frozen=True)
class Column:
    """One column of the layout. ``source`` is where :func:`build_csv` takes the value from: ``customer`` (an
    attribute of :class:`CsvCustomer`), ``document`` (``document_date``, ``period_start``, ``period_end``) or
    ``position`` (an attribute of :class:`CsvPosition`; ``position`` itself is the 1-based row number)."""

    name: str
    source: str
    key: str
    required: bool
    kind: str
    #: decimals: most decimal places accepted and written; fewest written
    places: int = 0
    min_places: int = 0
    #: enums: the accepted values
    choices: tuple = ()
    #: decimals: inclusive bounds, None for none
    minimum: Decimal | None = None
    maximum: Decimal | None = None


COLUMNS = (
    Column("customer_number", "customer", "number", True, TEXT),
    Column("company_name", "customer", "company_name", False, TEXT),
    Column("first_name", "customer", "first_name", False, TEXT),
    Column("last_name", "customer", "last_name", False, TEXT),
    Column("street", "customer", "street", False, TEXT),
    Column("zip_code", "customer", "zip_code", False, TEXT),
    Column("city", "customer", "city", False, TEXT),
    Column("country", "customer", "country", True, COUNTRY),
    Column("vat_id", "customer", "vat_id", False, TEXT),
    Column("email", "customer", "email", False, TEXT),
    Column("document_date", "document", "document_date", True, DATE),
    Column("service_date_from", "document", "period_start", True, DATE),
    Column("service_date_to", "document", "period_end", True, DATE),
    Column("position", "position", "position", True, INT),
    Column("position_type", "position", "position_type", True, ENUM, choices=POSITION_TYPES),
    Column("item_number", "position", "item_number", False, TEXT),
    Column("description", "position", "description", True, TEXT),
    Column("quantity", "position", "quantity", True, DECIMAL, places=4),
    Column("unit", "position", "unit", False, TEXT),
    Column("net_unit_price", "position", "net_unit_price", True, DECIMAL, places=4, min_places=2,
           minimum=Decimal(0)),
    Column("vat_percent", "position", "vat_percent", True, DECIMAL, places=2, min_places=2,
           minimum=Decimal(0), maximum=Decimal(100)),
)
HEADER = tuple(column.name for column in COLUMNS)
#: the columns that repeat on every row (one customer, one month per file)
HEAD_COLUMNS = tuple(column for column in COLUMNS if column.source != "position")
POSITION_COLUMNS = tuple(column for column in COLUMNS if column.source == "position")


@dataclass(frozen=True)
class CsvCustomer:
    number: str
    company_name: str = ""
    first_name: str = ""
    last_name: str = ""
    street: str = ""
    zip_code: str = ""
    city: str = ""
    #: ISO 3166-1 alpha-2, upper case
    country: str = ""
    vat_id: str = ""
    email: str = ""


@dataclass(frozen=True)
class CsvPosition:
    #: ``service`` or ``cancellation_fee``
    position_type: str
    item_number: str
    description: str
    #: negative for a credit line (the price stays positive)
    quantity: Decimal
    unit: str
    #: net, per unit, in the document's currency; never negative
    net_unit_price: Decimal
    vat_percent: Decimal


class CsvValidationError(ValueError):
    """A CSV file (or the values meant for one) breaks the layout; ``.errors`` lists every problem found."""

    def __init__(self, errors):
        self.errors = list(errors)
        shown = "; ".join(self.errors[:3])
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        super().__init__(f"invalid easybill CSV: {shown}{more}")


# ------------------------------------------------------------------------------------------------ cells
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_INT = re.compile(r"[0-9]+\Z")
_COUNTRY = re.compile(r"[A-Z]{2}\Z")


def _check_text(_column, cell):  # one signature for every kind
    return cell, None


def _check_decimal(column, cell):
    if not _DECIMAL.match(cell):
        return None, f'"{cell}" is not a decimal with a dot'
    places = len(cell) - cell.index(".") - 1 if "." in cell else 0
    if places > column.places:
        return None, f'"{cell}" has more than {column.places} decimal places'
    value = Decimal(cell)
    if column.minimum is not None and value < column.minimum:
        return None, f'"{cell}" is below {column.minimum}'
    if column.maximum is not None and value > column.maximum:
        return None, f'"{cell}" is above {column.maximum}'
    return value, None


def _check_date(_column, cell):
    if _DATE.match(cell):
        with contextlib.suppress(ValueError):  # e.g. 2025-02-30
            return date.fromisoformat(cell), None
    return None, f'"{cell}" is not a date in the form YYYY-MM-DD'


def _check_int(_column, cell):
    if _INT.match(cell) and int(cell) >= 1:
        return int(cell), None
    return None, f'"{cell}" is not a whole number from 1 up'


def _check_enum(column, cell):
    if cell in column.choices:
        return cell, None
    return None, f'"{cell}" is not one of: {", ".join(column.choices)}'


def _check_country(_column, cell):
    if _COUNTRY.match(cell):
        return cell, None
    return None, f'"{cell}" is not a two-letter ISO 3166 country code in upper case (e.g. DE)'


_CHECKS = {TEXT: _check_text, DECIMAL: _check_decimal, DATE: _check_date, INT: _check_int, ENUM: _check_enum,
           COUNTRY: _check_country}


def _parse_cell(column, cell):
    """``(value, None)`` or ``(value, problem)``: the one check both building and validating use."""
    if not cell.strip():
        return ("" if column.kind == TEXT else None), ("a value is required" if column.required else None)
    return _CHECKS[column.kind](column, cell)


def as_decimal(value):
    """``value`` (Decimal, int, float or numeric str) as a finite Decimal; floats through ``str`` (2.675 stays
    2.675, not the binary 2.67499…). TypeError/ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise TypeError(f"{value!r} is not a number")
    try:
        number = Decimal(str(value)) if isinstance(value, (float, str)) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f'"{value}" is not a number') from None
    if not number.is_finite():
        raise ValueError(f'"{value}" is not a finite number')
    return number


def _format_decimal(column, value):
    number = as_decimal(value)
    if not number:
        number = Decimal(0)  # no "-0"
    exponent = number.normalize().as_tuple().exponent
    places = -exponent if exponent < 0 else 0
    if places > column.places:
        raise ValueError(f'"{value}" has more than {column.places} decimal places (not rounded: no cent is lost)')
    return f"{number:.{max(places, column.min_places)}f}"


def _format_date(value):
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _format(column, value):
    """A value as its cell text; ``ValueError`` when it cannot be written without losing something."""
    if value is None or value is False:  # False: an empty Odoo field
        return ""
    if column.kind == DECIMAL:
        return "" if value == "" else _format_decimal(column, value)
    if column.kind == DATE:
        return _format_date(value)
    return str(value)


def _head_problems(values):
    """Rules across the customer/document columns (parsed values by column name)."""
    problems = []
    if not (values.get("company_name") or "").strip() and not (values.get("last_name") or "").strip():
        problems.append("company_name or last_name is required")
    start, end = values.get("service_date_from"), values.get("service_date_to")
    if start and end and start > end:
        problems.append(f"service_date_from {start} is after service_date_to {end}")
    return problems


# ------------------------------------------------------------------------------------------------ build
def build_csv(customer, document_date, period_start, period_end, positions, *, bom=False):
    """One customer's month as CSV bytes (see the module docstring for the format).

    ``customer``: a :class:`CsvCustomer`; dates: ``date`` objects (or ISO strings); ``positions``: the
    :class:`CsvPosition` s in invoice order. Raises :class:`CsvValidationError` listing every value that
    cannot be written as the layout requires (nothing is rounded or truncated silently).
    """
    errors = []
    document = {"document_date": document_date, "period_start": period_start, "period_end": period_end}
    head, head_values = [], {}
    for column in HEAD_COLUMNS:
        value = getattr(customer, column.key) if column.source == "customer" else document[column.key]
        where = f'{column.source}, column "{column.name}"'
        try:
            cell = _format(column, value)
        except (TypeError, ValueError) as exc:
            errors.append(f"{where}: {exc}")
            cell = ""
        else:
            parsed, problem = _parse_cell(column, cell)
            if problem:
                errors.append(f"{where}: {problem}")
            head_values[column.name] = parsed
        head.append(cell)
    errors.extend(f"customer: {problem}" for problem in _head_problems(head_values))
    positions = list(positions)
    if not positions:
        errors.append("no positions: an invoice needs at least one line")
    rows = []
    for number, position in enumerate(positions, start=1):
        row = list(head)
        for column in POSITION_COLUMNS:
            value = number if column.key == "position" else getattr(position, column.key)
            try:
                cell = _format(column, value)
                problem = _parse_cell(column, cell)[1]
            except (TypeError, ValueError) as exc:
                cell, problem = "", str(exc)
            if problem:
                errors.append(f'position {number}, column "{column.name}": {problem}')
            row.append(cell)
        rows.append(row)
    if errors:
        raise CsvValidationError(errors)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=DELIMITER, quotechar='"', quoting=csv.QUOTE_MINIMAL,
                        lineterminator=LINE_TERMINATOR)
    writer.writerow(HEADER)
    writer.writerows(rows)
    data = buffer.getvalue().encode(ENCODING)
    return BOM + data if bom else data


# ------------------------------------------------------------------------------------------------- read
def _decode(data):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"CSV data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, (f"the file is not valid UTF-8: byte 0x{data[exc.start]:02X} at byte offset {exc.start} "
                      f"(line {line}) cannot be decoded; save the file as UTF-8, not as Windows-1252/Latin-1")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return None, "the file is empty"
    return text, None


def _header_problems(header):
    if list(header) == list(HEADER):
        return []
    if len(header) == 1 and len(header[0].split(",")) > 1:
        return [f'header: the delimiter must be ";" (found one column "{header[0][:60]}")']
    problems = []
    if len(header) != len(HEADER):
        problems.append(f"header: expected {len(HEADER)} columns, found {len(header)}")
    for index, (expected, found) in enumerate(zip(HEADER, header, strict=False), start=1):
        if expected != found:
            problems.append(f'header, column {index}: expected "{expected}", found "{found}"')
    missing = [name for name in HEADER if name not in header]
    if missing:
        problems.append(f"header: missing {', '.join(missing)}")
    return problems


class _Reading:
    """What :func:`_parse` has read so far."""

    def __init__(self):
        self.errors, self.hidden = [], 0
        self.first_cells = self.first_values = None
        self.positions = []

    def error(self, message):
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)
        else:
            self.hidden += 1

    def row(self, number, row):
        """Check one position row (``number`` as a spreadsheet counts, the header being 1)."""
        if not any(cell.strip() for cell in row):
            self.error(f"row {number}: the row is empty")
            return
        if len(row) != len(HEADER):
            self.error(f"row {number}: expected {len(HEADER)} columns, found {len(row)}")
            return
        values, valid = {}, True
        for column, cell in zip(COLUMNS, row, strict=True):
            values[column.name], problem = _parse_cell(column, cell)
            if problem:
                self.error(f'row {number}, column "{column.name}": {problem}')
                valid = False
        self._same_head(number, row[:len(HEAD_COLUMNS)], values)
        expected = len(self.positions) + 1
        if values["position"] is not None and values["position"] != expected:
            self.error(f'row {number}, column "position": expected {expected}, found {values["position"]} '
                       "(positions number the rows 1, 2, 3, … in order)")
        self.positions.append(CsvPosition(**{c.key: values[c.name] for c in POSITION_COLUMNS if c.key != "position"})
                              if valid else None)

    def _same_head(self, number, cells, values):
        if self.first_cells is None:
            self.first_cells, self.first_values = cells, values
            for problem in _head_problems(values):
                self.error(f"row {number}: {problem}")
            return
        for column, cell, first in zip(HEAD_COLUMNS, cells, self.first_cells, strict=True):
            if cell != first:
                self.error(f'row {number}, column "{column.name}": "{cell}" differs from row 2 ("{first}"); '
                           "a file holds one customer and one month")

    def result(self):
        customer = CsvCustomer(**{c.key: self.first_values[c.name] for c in HEAD_COLUMNS if c.source == "customer"})
        period = (self.first_values["service_date_from"], self.first_values["service_date_to"])
        return customer, self.first_values["document_date"], period, self.positions


def _parse(data):
    """``(errors, (customer, document_date, (start, end), positions) or None)``."""
    text, problem = _decode(data)
    if problem:
        return [problem], None
    reading, number = _Reading(), 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITER, quotechar='"', strict=True)
    try:
        for number, row in enumerate(reader, start=1):
            if number > 1:
                reading.row(number, row)
                continue
            header_problems = _header_problems(row)
            if header_problems:
                return header_problems, None
    except csv.Error as exc:
        reading.error(f"row {number + 1}: malformed CSV ({exc})")
    if reading.first_values is None and not reading.errors:
        reading.error("the file has a header but no positions")
    if reading.hidden:
        reading.errors.append(f"… and {reading.hidden} more errors")
    if reading.errors:
        return reading.errors, None
    return [], reading.result()


def validate_csv(data):
    """Every problem of a CSV file as a human-readable line (empty when the file is valid), e.g.
    ``row 3, column "quantity": "1,5" is not a decimal with a dot``."""
    return _parse(data)[0]


def check_csv(data):
    """Raise :class:`CsvValidationError` unless ``data`` is a valid file."""
    errors = validate_csv(data)
    if errors:
        raise CsvValidationError(errors)


def read_csv(data):
    """``(CsvCustomer, document_date, (service_date_from, service_date_to), [CsvPosition])`` of a valid file;
    raises :class:`CsvValidationError` otherwise. Empty optional text columns read back as ``""``; decimals as
    ``Decimal`` with the places written (``Decimal("19.00") == Decimal("19")``)."""
    errors, result = _parse(data)
    if errors:
        raise CsvValidationError(errors)
    return result


#: field names of the dataclasses (for callers building them from dicts)
CUSTOMER_FIELDS = tuple(f.name for f in fields(CsvCustomer))
POSITION_FIELDS = tuple(f.name for f in fields(CsvPosition))
