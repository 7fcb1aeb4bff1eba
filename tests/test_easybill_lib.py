"""The easybill CSV file and the easybill REST request builders (plain Python, nothing is sent)."""
import csv
import email.parser
import email.policy
import io
import json
import time
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from ib_fakes.easybill_fake import FakeEasybill
from ib_fakes.easybill_swagger2 import Swagger

from ib_lib.core_transport import Transport
from ib_lib.easybill_client import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    FILE_FORMATS,
    EasybillClient,
    document_facts,
    document_state,
    document_url,
    error_message,
    export_budget,
    file_format_config,
    first_item_id,
    is_sent,
    parse_id,
    position_item,
    sync_budget,
    to_cents,
)
from ib_lib.easybill_csv import (
    BOM,
    HEADER,
    CsvCustomer,
    CsvPosition,
    CsvValidationError,
    build_csv,
    check_csv,
    read_csv,
    validate_csv,
)
from tests.conftest import DATA

SPEC = DATA / "easybill_swagger-1.92.3.json"
KEY = "eb-test-key-0123456789abcdef"

CUSTOMER = CsvCustomer(number="K-1001", company_name='Bäckerei "Süß"; Müller & Söhne', first_name="Jörg",
                       last_name="Weiß", street="Hauptstraße 5", zip_code="50667", city="Köln", country="DE",
                       vat_id="DE123456789", email="buchhaltung@baeckerei-suess.de")
PERIOD = (date(2025, 1, 1), date(2025, 1, 31))
DOC_DATE = date(2025, 2, 1)


def pos(description="Wartung", quantity="1", price="75.00", **kw):
    return CsvPosition(kw.get("kind", "service"), kw.get("number", "S-1"), description, Decimal(quantity),
                       kw.get("unit", "Std"), Decimal(price), Decimal(kw.get("vat", "19")))


POSITIONS = [
    pos("Wartung Kühlhaus; Größe L", "2.5", "89.90"),
    pos('Einsatz "Notdienst"\r\nmit Anfahrt\nund Überstunden', "1", "120.00", number=""),
    pos("Stornierung Termin 14.01.", "1", "35.00", kind="cancellation_fee", number="FEE-1", unit=""),
    pos("Gutschrift Dezember (ß)", "-3", "12.3456", vat="7"),
]


def good_csv(**kw):
    return build_csv(kw.get("customer", CUSTOMER), DOC_DATE, *PERIOD, kw.get("positions", POSITIONS))


def rows_of(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=";"))


def write_rows(rows):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def mutate(column, value, row=1, data=None):
    """The good file with one cell changed (``row`` 1 = first position row)."""
    rows = rows_of(data or good_csv())
    rows[row][HEADER.index(column)] = value
    return write_rows(rows)


# ------------------------------------------------------------------------------------------------- CSV
def test_csv_round_trip_keeps_umlauts_quotes_semicolons_and_line_breaks():
    data = good_csv()
    customer, document_date, period, positions = read_csv(data)
    assert customer == CUSTOMER
    assert document_date == DOC_DATE and period == PERIOD
    assert positions == POSITIONS
    assert positions[1].description == 'Einsatz "Notdienst"\r\nmit Anfahrt\nund Überstunden'
    assert validate_csv(data) == []
    check_csv(data)


def test_csv_format_decisions():
    data = good_csv()
    assert not data.startswith(BOM), "no BOM by default"
    assert data.startswith(";".join(HEADER).encode() + b"\r\n")
    assert "Köln".encode() in data and "Weiß".encode() in data, "UTF-8"
    assert '"Bäckerei ""Süß""; Müller & Söhne"'.encode() in data, "quoted, quotes doubled"
    assert data.endswith(b"\r\n")
    rows = rows_of(data)
    assert rows[1][10:13] == ["2025-02-01", "2025-01-01", "2025-01-31"], "ISO dates"
    col = {name: i for i, name in enumerate(HEADER)}
    assert [r[col["position"]] for r in rows[1:]] == ["1", "2", "3", "4"]
    assert [r[col["quantity"]] for r in rows[1:]] == ["2.5", "1", "1", "-3"]
    assert [r[col["net_unit_price"]] for r in rows[1:]] == ["89.90", "120.00", "35.00", "12.3456"]
    assert [r[col["vat_percent"]] for r in rows[1:]] == ["19.00", "19.00", "19.00", "7.00"]
    with_bom = build_csv(CUSTOMER, DOC_DATE, *PERIOD, POSITIONS, bom=True)
    assert with_bom.startswith(BOM) and with_bom[3:] == data
    assert read_csv(with_bom)[3] == POSITIONS, "a BOM is accepted on reading"


def test_csv_cancellation_fee_and_credit_line():
    rows = rows_of(good_csv())
    col = {name: i for i, name in enumerate(HEADER)}
    assert [r[col["position_type"]] for r in rows[1:]] == ["service", "service", "cancellation_fee", "service"]
    assert rows[3][col["description"]] == "Stornierung Termin 14.01.", "its own row, never merged"
    assert rows[4][col["quantity"]] == "-3", "a credit line has a negative quantity, a positive price"
    assert read_csv(good_csv())[3][3].quantity == Decimal(-3)


def test_csv_build_refuses_values_it_cannot_write_exactly():
    bad = [pos(price="1.23456"), pos(description=" "), pos(kind="storno"), pos(price="-5"),
           CsvPosition("service", "", "x", 1.5, "", 0.1 + 0.2, 19)]
    with pytest.raises(CsvValidationError) as info:
        build_csv(CsvCustomer(number="", country="Deutschland"), DOC_DATE, PERIOD[1], PERIOD[0], bad)
    errors = info.value.errors
    assert isinstance(info.value, ValueError)
    assert 'customer, column "customer_number": a value is required' in errors
    assert any('column "country"' in e and "Deutschland" in e for e in errors)
    assert "customer: company_name or last_name is required" in errors
    assert "customer: service_date_from 2025-01-31 is after service_date_to 2025-01-01" in errors
    assert any(e.startswith('position 1, column "net_unit_price"') and "more than 4 decimal places" in e
               for e in errors)
    assert 'position 2, column "description": a value is required' in errors
    assert any(e.startswith('position 3, column "position_type"') for e in errors)
    assert 'position 4, column "net_unit_price": "-5.00" is below 0' in errors
    assert any(e.startswith('position 5, column "net_unit_price"') for e in errors), "0.30000000000000004"
    with pytest.raises(CsvValidationError, match="no positions"):
        build_csv(CUSTOMER, DOC_DATE, *PERIOD, [])


def test_csv_build_accepts_floats_ints_and_odoo_false():
    customer = CsvCustomer(number="K-7", last_name="Meier", country="AT", company_name=False, email=False)
    data = build_csv(customer, DOC_DATE, *PERIOD, [CsvPosition("service", False, "Std", 1.5, False, 80, 20.0)])
    customer_back, _, _, [position] = read_csv(data)
    assert customer_back.company_name == "" and customer_back.email == ""
    assert position.quantity == Decimal("1.5") and position.net_unit_price == Decimal(80)


def test_csv_invalid_utf8_is_reported_with_its_byte_offset():
    data = good_csv()
    offset = data.index("Köln".encode())
    latin1 = data.replace("Köln".encode(), "Köln".encode("latin-1"))
    errors = validate_csv(latin1)
    assert len(errors) == 1
    assert "not valid UTF-8" in errors[0]
    assert f"byte 0xF6 at byte offset {offset + 1} (line 2)" in errors[0]
    with pytest.raises(CsvValidationError) as info:
        check_csv(latin1)
    assert info.value.errors == errors


@pytest.mark.parametrize(("data", "expected"), [
    (mutate("quantity", "1,5"), 'row 2, column "quantity": "1,5" is not a decimal with a dot'),
    (mutate("quantity", "1.000,50"), 'row 2, column "quantity": "1.000,50" is not a decimal with a dot'),
    (mutate("quantity", "1e3"), 'row 2, column "quantity": "1e3" is not a decimal with a dot'),
    (mutate("quantity", "1.23456"), 'row 2, column "quantity": "1.23456" has more than 4 decimal places'),
    (mutate("net_unit_price", "-1.00"), 'row 2, column "net_unit_price": "-1.00" is below 0'),
    (mutate("vat_percent", "119.00"), 'row 2, column "vat_percent": "119.00" is above 100'),
    (mutate("description", ""), 'row 2, column "description": a value is required'),
    (mutate("position_type", "storno"),
     'row 2, column "position_type": "storno" is not one of: service, cancellation_fee'),
    (mutate("country", "de"),
     'row 2, column "country": "de" is not a two-letter ISO 3166 country code in upper case (e.g. DE)'),
    (mutate("document_date", "01.02.2025"),
     'row 2, column "document_date": "01.02.2025" is not a date in the form YYYY-MM-DD'),
    (mutate("service_date_to", "2025-02-30"),
     'row 2, column "service_date_to": "2025-02-30" is not a date in the form YYYY-MM-DD'),
    (mutate("position", "x"), 'row 2, column "position": "x" is not a whole number from 1 up'),
    (mutate("position", "3", row=2),
     'row 3, column "position": expected 2, found 3 (positions number the rows 1, 2, 3, … in order)'),
    (mutate("city", "Bonn", row=3),
     'row 4, column "city": "Bonn" differs from row 2 ("Köln"); a file holds one customer and one month'),
    (mutate("last_name", "", data=mutate("company_name", "")), "row 2: company_name or last_name is required"),
    (mutate("service_date_from", "2025-02-01"),
     "row 2: service_date_from 2025-02-01 is after service_date_to 2025-01-31"),
])
def test_csv_cell_errors(data, expected):
    errors = validate_csv(data)
    assert expected in errors, errors
    with pytest.raises(CsvValidationError):
        read_csv(data)


def test_csv_structure_errors():
    rows = rows_of(good_csv())
    renamed = [list(rows[0]), *rows[1:]]
    renamed[0][4] = "strasse"
    assert 'header, column 5: expected "street", found "strasse"' in validate_csv(write_rows(renamed))
    short_header = [rows[0][:-1], *rows[1:]]
    errors = validate_csv(write_rows(short_header))
    assert f"header: expected {len(HEADER)} columns, found {len(HEADER) - 1}" in errors
    assert "header: missing vat_percent" in errors
    comma = good_csv().decode().replace(";", ",").encode()
    assert validate_csv(comma)[0].startswith('header: the delimiter must be ";"')
    short_row = [*rows[:2], rows[2][:-1], *rows[3:]]
    assert f"row 3: expected {len(HEADER)} columns, found {len(HEADER) - 1}" in validate_csv(write_rows(short_row))
    assert "row 3: the row is empty" in validate_csv(write_rows([*rows[:2], [], *rows[2:]]))
    broken = good_csv().replace(b"\r\nK-1001;", b'\r\n"K-1001"x;', 1)  # text after a closing quote
    assert validate_csv(broken) == ["row 2: malformed CSV (';' expected after '\"')"]
    assert validate_csv(b"") == ["the file is empty"]
    assert validate_csv(write_rows(rows[:1])) == ["the file has a header but no positions"]
    with pytest.raises(TypeError):
        validate_csv("not bytes")


def test_csv_errors_are_capped():
    rows = rows_of(good_csv(positions=[pos()] * 300))
    for row in rows[1:]:
        row[HEADER.index("quantity")] = "1,0"
    errors = validate_csv(write_rows(rows))
    assert len(errors) == 101 and errors[-1] == "… and 200 more errors"


def test_csv_is_fast_for_a_month_of_1000_customers():
    positions = [pos(f'Leistung {i}: Überprüfung; Teil "{i}"', f"{i % 7 + 1}.25", f"{i}.99") for i in range(20)]
    customers = [CsvCustomer(number=f"K-{n}", company_name=f"Kunde {n} GmbH", street="Weg 1", zip_code="10115",
                             city="Berlin", country="DE") for n in range(1000)]
    start = time.perf_counter()
    files = [build_csv(customer, DOC_DATE, *PERIOD, positions) for customer in customers]
    built = time.perf_counter() - start
    assert built < 5, f"building 1,000 x 20 lines took {built:.2f} s"
    start = time.perf_counter()
    assert all(not validate_csv(data) for data in files[:250])
    assert time.perf_counter() - start < 5


# ------------------------------------------------------------------------------------------------ cents
@pytest.mark.parametrize(("amount", "cents"), [
    (Decimal("0.005"), 1), (Decimal("2.675"), 268), (2.675, 268), (Decimal("-1.005"), -101), (-1.005, -101),
    (0.1 + 0.2, 30), (Decimal("0.004"), 0), (Decimal("-0.005"), -1), (12, 1200), ("19.99", 1999),
    (Decimal("12.3456"), 1235), (Decimal("-0.004"), 0), (1e-9, 0),
])
def test_to_cents(amount, cents):
    assert to_cents(amount) == cents
    assert isinstance(to_cents(amount), int)


def test_to_cents_refuses_non_amounts():
    for bad in (True, None, "1,5", Decimal("NaN"), float("inf")):
        with pytest.raises((TypeError, ValueError)):
            to_cents(bad)


# ---------------------------------------------------------------------------------------------- requests
@pytest.fixture
def client():
    return EasybillClient("https://easybill.example/rest/v1/", KEY)


def body_of(request):
    return json.loads(request.body.decode("utf-8"))


def assert_auth(request, content_type=None):
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers.get("Content-Type") == content_type
    assert request.secrets == (KEY,)
    assert KEY.encode() not in request.body, "the key is never in a body"
    assert KEY not in request.url


def test_client_defaults():
    default = EasybillClient(None, KEY)
    assert default.base_url == DEFAULT_BASE_URL == "https://api.easybill.de/rest/v1"
    assert default.timeout == DEFAULT_TIMEOUT == 30
    assert default.find_customer("1").timeout == 30
    with pytest.raises(ValueError, match="API key"):
        EasybillClient(DEFAULT_BASE_URL, "")


def test_find_customer(client):
    request = client.find_customer("K 1001/ä")
    assert request.method == "GET" and request.body == b""
    assert request.url == "https://easybill.example/rest/v1/customers?number=K%201001%2F%C3%A4"
    assert_auth(request)
    assert "X-Easybill-Escape" not in request.headers
    comma = client.find_customer("K,1")
    assert comma.headers["X-Easybill-Escape"] == "true"
    assert parse_qs(urlsplit(comma.url).query) == {"number": ["K\\,1"]}, "easybill splits filters at commas"


def test_create_customer(client):
    request = client.create_customer(CUSTOMER)
    assert request.method == "POST" and request.url == "https://easybill.example/rest/v1/customers"
    assert_auth(request, "application/json")
    assert body_of(request) == {
        "number": "K-1001", "company_name": 'Bäckerei "Süß"; Müller & Söhne', "last_name": "Weiß",
        "first_name": "Jörg", "street": "Hauptstraße 5", "zip_code": "50667", "city": "Köln", "country": "DE",
        "vat_identifier": "DE123456789", "emails": ["buchhaltung@baeckerei-suess.de"]}
    person = body_of(client.create_customer({"number": "K-2", "last_name": "Meier", "country": "at",
                                             "email": "a@x.de, b@x.de;a@x.de c@x.de d@x.de", "street": ""}))
    assert person == {"number": "K-2", "company_name": None, "last_name": "Meier", "country": "AT",
                      "emails": ["a@x.de", "b@x.de", "c@x.de"]}, "empty fields omitted, no empty strings"
    for bad in ({"number": "K-3", "country": "DE"}, {"number": "", "last_name": "X", "country": "DE"},
                {"number": "K-3", "last_name": "X", "country": "Germany"}):
        with pytest.raises(ValueError):
            client.create_customer(bad)
    with pytest.raises(ValueError, match="unknown customer fields: vat_identifier"):
        client.create_customer({"number": "K-3", "last_name": "X", "country": "DE", "vat_identifier": "DE1"})


def test_create_document(client):
    request = client.create_document(4711, DOC_DATE, PERIOD, "Leistungen 2025-01 K-1001", POSITIONS,
                                     currency="eur", text="Vielen Dank!")
    assert request.method == "POST" and request.url == "https://easybill.example/rest/v1/documents"
    assert_auth(request, "application/json")
    body = body_of(request)
    assert body == {
        "type": "INVOICE", "customer_id": 4711, "document_date": "2025-02-01", "title": "Leistungen 2025-01 K-1001",
        "service_date": {"type": "SERVICE", "date_from": "2025-01-01", "date_to": "2025-01-31"},
        "currency": "EUR", "text": "Vielen Dank!",
        "items": [
            {"type": "POSITION", "itemType": "SERVICE", "number": "S-1", "description": "Wartung Kühlhaus; Größe L",
             "quantity": 2.5, "unit": "Std", "single_price_net": 8990, "vat_percent": 19},
            {"type": "POSITION", "itemType": "SERVICE",
             "description": 'Einsatz "Notdienst"\r\nmit Anfahrt\nund Überstunden',
             "quantity": 1, "unit": "Std", "single_price_net": 12000, "vat_percent": 19},
            {"type": "POSITION", "itemType": "SERVICE", "number": "FEE-1",
             "description": "Stornogebühr: Stornierung Termin 14.01.", "quantity": 1, "single_price_net": 3500,
             "vat_percent": 19},
            {"type": "POSITION", "itemType": "SERVICE", "number": "S-1", "description": "Gutschrift Dezember (ß)",
             "quantity": -3, "unit": "Std", "single_price_net": 1235, "vat_percent": 7},
        ]}
    assert "is_draft" not in body and "amount" not in body and "amount_net" not in body
    one_day = body_of(client.create_document(1, "2025-02-01", ("2025-01-15", "2025-01-15"), "T", POSITIONS[:1]))
    assert one_day["service_date"] == {"type": "SERVICE", "date": "2025-01-15"}
    assert "currency" not in one_day and "text" not in one_day
    with pytest.raises(ValueError):
        client.create_document(1, DOC_DATE, PERIOD, "T", [])
    with pytest.raises(ValueError):
        client.create_document(1, DOC_DATE, (PERIOD[1], PERIOD[0]), "T", POSITIONS)


def test_cancellation_fee_is_its_own_position():
    fee = position_item(pos("Stornogebühr: Termin 3.2.", kind="cancellation_fee"))
    assert fee["description"] == "Stornogebühr: Termin 3.2.", "not prefixed twice"
    assert position_item(pos("", kind="cancellation_fee"))["description"] == "Stornogebühr"
    assert position_item(pos("Termin", kind="cancellation_fee"), cancellation_label="Cancellation fee")[
        "description"] == "Cancellation fee: Termin"
    assert position_item(pos("Termin"))["description"] == "Termin"


def test_find_documents_finalize_and_link(client):
    found = client.find_documents(4711, "Leistungen 2025-01 K-1001")
    assert found.method == "GET" and found.body == b""
    assert urlsplit(found.url).path == "/rest/v1/documents"
    assert parse_qs(urlsplit(found.url).query) == {"customer_id": ["4711"], "title": ["Leistungen 2025-01 K-1001"]}
    assert_auth(found)
    done = client.finalize_document("99")
    assert (done.method, done.url, done.body) == ("PUT", "https://easybill.example/rest/v1/documents/99/done", b"")
    assert_auth(done)
    link = client.link_attachment(5, 99)
    assert (link.method, link.url) == ("PUT", "https://easybill.example/rest/v1/attachments/5")
    assert body_of(link) == {"document_id": 99}
    assert_auth(link, "application/json")
    with pytest.raises(ValueError):
        client.finalize_document("99/../customers")


def test_upload_attachment_is_multipart_that_parses_back(client):
    content = good_csv()
    request = client.upload_attachment('easybill_K-1001_2025-01_Köln "x".csv', content)
    assert request.method == "POST" and request.url == "https://easybill.example/rest/v1/attachments"
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert_auth(request, content_type)
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body)
    assert message.is_multipart()
    [part] = message.iter_parts()
    assert part.get_param("name", header="content-disposition") == "file"
    assert part.get_filename() == "easybill_K-1001_2025-01_Koeln _x_.csv"
    assert part.get_content_type() == "text/csv"
    assert part.get_payload(decode=True) == content, "the bytes arrive unchanged"


# ---------------------------------------------------------------------------------------------- answers
def test_answer_readers():
    assert parse_id('{"id": 123, "number": "K-1"}') == 123
    assert parse_id(b'{"id": "77"}') == 77
    for bad in ("", "<html>502</html>", "[]", '{"id": null}', '{"id": true}'):
        with pytest.raises(ValueError):
            parse_id(bad)
    listing = {"page": 1, "pages": 1, "limit": 100, "total": 2,
               "items": [{"id": 5, "title": "Leistungen 2025-01 K-1001 (Korrektur)"},
                         {"id": 6, "title": "Leistungen 2025-01 K-1001"}]}
    assert first_item_id(json.dumps(listing)) == 5
    assert first_item_id(json.dumps(listing), title="Leistungen 2025-01 K-1001") == 6
    assert first_item_id(json.dumps(listing), title="other") is None
    assert first_item_id('{"page": 1, "pages": 0, "limit": 100, "total": 0, "items": []}') is None
    with pytest.raises(ValueError):
        first_item_id('{"id": 1}')


def test_error_message():
    assert error_message(400, '{"code": 400, "message": "The field last_name is required."}') == \
        "HTTP 400 Bad Request: The field last_name is required."
    assert error_message(400, '{"message": "Invalid", "arguments": {"country": ["not valid"]}}') == \
        "HTTP 400 Bad Request: Invalid (country: not valid)"
    assert error_message(429, "") == "HTTP 429 Too Many Requests"
    html = "<html>\n<body>" + "Bad Gateway " * 200 + "</body></html>"
    message = error_message(502, html)
    assert message.startswith("HTTP 502 Bad Gateway: <html> <body>Bad Gateway") and len(message) <= 500
    assert error_message(0, "") == "no answer"
    assert error_message(599, b"oops") == "HTTP 599: oops"


# ----------------------------------------------------------------------------------------------- swagger
@pytest.fixture(scope="module")
def swagger():
    return Swagger(SPEC)


def _query(request):
    return parse_qs(urlsplit(request.url).query, keep_blank_values=True)


def test_every_request_matches_the_swagger(client, swagger):
    requests = [
        ("POST", "/customers", client.create_customer(CUSTOMER)),
        ("POST", "/customers", client.create_customer({"number": "K-2", "last_name": "Meier", "country": "DE"})),
        ("POST", "/documents", client.create_document(4711, DOC_DATE, PERIOD, "T", POSITIONS, "EUR", "Danke")),
        ("POST", "/documents", client.create_document(4711, DOC_DATE, (PERIOD[0], PERIOD[0]), "T", POSITIONS[:1])),
        ("PUT", "/attachments/{id}", client.link_attachment(5, 99)),
        ("GET", "/customers", client.find_customer("K,1001")),
        ("GET", "/documents", client.find_documents(4711, "Leistungen 2025-01 K-1001")),
        ("PUT", "/documents/{id}/done", client.finalize_document(99)),
        ("POST", "/attachments", client.upload_attachment("a.csv", b"x")),
    ]
    for method, template, request in requests:
        assert request.method == method
        where = f"{method} {template}"
        assert swagger.validate_query(method, template, _query(request)) == [], where
        definition = swagger.request_body_definition(method, template)
        if definition:
            assert swagger.validate(definition, json.loads(request.body)) == [], where
        else:
            assert not request.body or template == "/attachments", where
    formdata = [(p["in"], p["name"]) for p in swagger.operation("POST", "/attachments")["parameters"]]
    assert formdata == [("formData", "file")]


def test_a_month_end_to_end_against_the_fake():
    """The whole export through the transport against the loopback fake (which validates every request)."""
    data = good_csv()
    customer, document_date, period, positions = read_csv(data)
    with FakeEasybill(api_key=KEY) as fake, Transport() as transport:
        client = EasybillClient(fake.api_url, KEY, timeout=5)

        def send(request, status=200):
            exchange = transport.send(request)
            assert exchange.status == status, error_message(exchange.status, exchange.body)
            return exchange.body

        assert first_item_id(send(client.find_customer(customer.number)), number=customer.number) is None
        customer_id = parse_id(send(client.create_customer(customer), 201))
        assert first_item_id(send(client.find_customer(customer.number)), number=customer.number) == customer_id
        title = f"Leistungen 2025-01, {customer.number}"
        assert first_item_id(send(client.find_documents(customer_id, title)), title=title) is None
        document_id = parse_id(send(client.create_document(customer_id, document_date, period, title, positions),
                                    201))
        assert first_item_id(send(client.find_documents(customer_id, title)), title=title) == document_id
        attachment_id = parse_id(send(client.upload_attachment("K-1001_2025-01.csv", data), 201))
        send(client.link_attachment(attachment_id, document_id))
        answer = transport.send(client.create_customer(customer))
        assert answer.status == 400
        assert error_message(answer.status, answer.body) == "HTTP 400 Bad Request: number: 'K-1001' is already taken"
        document = fake.documents[document_id]
        assert document["is_draft"] is True and document["attachment_ids"] == [attachment_id]
        # 2.5 x 89.90 + 120.00 + 35.00 (fee) - 3 x 12.35: the API's unit price is whole cents (12.3456 -> 1235)
        assert document["amount_net"] == 22475 + 12000 + 3500 - 3 * 1235
        assert [item["description"] for item in document["items"]][2] == "Stornogebühr: Stornierung Termin 14.01."
        assert fake.attachments[attachment_id]["content"] == data
        send(client.finalize_document(document_id))
        assert fake.documents[document_id]["is_draft"] is False
    assert all(KEY.encode() not in r["body"] for r in fake.requests)


def test_file_formats_are_the_swagger_s_e_invoice_values():
    enum = Swagger(SPEC).spec["definitions"]["FileFormatConfig"]["properties"]["type"]["enum"]
    assert [value for value, _label in FILE_FORMATS] == [v for v in enum if not v.startswith("default")]
    assert file_format_config("zugferd2_2") == [{"type": "zugferd2_2"}]
    with pytest.raises(ValueError, match="not an e-invoice format"):
        file_format_config("default")


def test_document_body_carries_the_format_only_when_one_is_chosen():
    client = EasybillClient(api_key="k")
    item = {"description": "x", "quantity": 1, "single_price_net": 100}
    plain = client.document_body(7, date(2026, 11, 2), (date(2026, 10, 1), date(2026, 10, 31)), "T", [item])
    assert "file_format_config" not in plain
    einvoice = client.document_body(7, date(2026, 11, 2), (date(2026, 10, 1), date(2026, 10, 31)), "T", [item],
                                    file_format="xrechnung3_0_xml")
    assert einvoice["file_format_config"] == [{"type": "xrechnung3_0_xml"}]


# ------------------------------------------------------------------------------------------- back-sync (#18.6)
def _document(**changes):
    return {"id": 7, "type": "INVOICE", "is_draft": False, "number": "RE-7", "document_date": "2026-11-02",
            "amount": 11900, "paid_amount": 0, "paid_at": None, "cancel_id": None, "status": None, **changes}


@pytest.mark.parametrize(("changes", "sent", "state"), [
    ({"is_draft": True, "number": None}, False, "draft"),
    ({}, False, "final"),
    ({}, True, "sent"),
    ({"paid_amount": 5000}, True, "partial"),
    ({"paid_amount": 11900}, False, "paid"),
    ({"paid_at": "2026-11-20"}, False, "paid"),
    ({"cancel_id": 8, "paid_amount": 11900}, True, "cancelled"),
    ({"status": "DONE"}, False, "final"),  # status is for delivery notes, orders, offers: never an invoice's
])
def test_document_state_from_the_swagger_fields(changes, sent, state):
    assert document_state(document_facts(_document(**changes)), sent=sent) == state


def test_document_facts_in_units_and_dates():
    facts = document_facts(json.dumps(_document(paid_amount=5050, paid_at="2026-11-20")))
    assert facts["amount"] == Decimal("119.00") and facts["paid_amount"] == Decimal("50.50")
    assert facts["document_date"] == date(2026, 11, 2) and facts["paid_at"] == date(2026, 11, 20)
    assert document_state(None) == "deleted"
    for bad in ({"id": 7}, {"is_draft": True}, [], "null"):
        with pytest.raises(ValueError):
            document_facts(json.dumps(bad) if not isinstance(bad, str) else bad)


def test_sent_is_a_post_box_entry_that_went_out():
    assert is_sent([{"status": "WAITING"}, {"status": "OK"}])
    assert not is_sent([{"status": "WAITING"}, {"status": "ERROR"}, "junk"])
    assert not is_sent([])


def test_back_sync_requests_keep_the_range_comma():
    client = EasybillClient(api_key=KEY)
    request = client.edited_documents(date(2026, 11, 1), date(2026, 11, 30), page=2)
    query = parse_qs(urlsplit(request.url).query)
    assert query == {"type": ["INVOICE"], "edited_at": ["2026-11-01,2026-11-30"], "limit": ["1000"], "page": ["2"]}
    assert "X-Easybill-Escape" not in request.headers, "the comma separates the range: not escaped"
    assert parse_qs(urlsplit(client.post_boxes([3, 4]).url).query)["document_id"] == ["3,4"]
    assert client.document_pdf(3).headers["Accept"] == "application/pdf"
    assert parse_qs(urlsplit(client.draft_documents().url).query)["is_draft"] == ["1"]
    swagger = Swagger(SPEC)
    for request in (client.edited_documents(date(2026, 11, 1), date(2026, 11, 30)), client.draft_documents(),
                    client.post_boxes([3])):
        path = urlsplit(request.url).path.removeprefix("/rest/v1")
        assert swagger.validate_query("GET", path, parse_qs(urlsplit(request.url).query)) == []
    webhook = client.register_webhook("https://odoo.example/hook/1/t", "s3cret")
    assert webhook.method == "POST" and swagger.validate("WebHook", json.loads(webhook.body)) == []
    assert client.register_webhook("https://odoo.example/hook/1/t", "s3cret", webhook_id=5).url.endswith(
        "/webhooks/5")
    with pytest.raises(ValueError):
        client.register_webhook("ftp://odoo.example/hook", "s")


def test_budget_and_link():
    assert (sync_budget(10), export_budget(10)) == (2, 8)
    assert (sync_budget(60), export_budget(60)) == (12, 48)
    assert document_url("https://x.example/d/{id}?n={number}", 7, "RE 7") == "https://x.example/d/7?n=RE%207"
    for pattern in ("https://x.example/d/", "javascript:{id}", ""):
        with pytest.raises(ValueError):
            document_url(pattern, 7)
