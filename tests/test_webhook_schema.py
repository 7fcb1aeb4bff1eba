"""The JSON Schemas of the webhook bodies (tests/schemas) against hand-written samples (plain Python)."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from ib_fakes.webhook_schema import SCHEMA_NAMES, load_schema, required_key_paths, sample_payload, validate

INVOICE = ("operations", 0, "payload", "invoice")
LEDGER_ENTRY = ("operations", 2, "payload", "ledger_entries", 0)
ATTACHMENT = (*INVOICE, "attachments", 0)
EXPECTED_OPERATIONS = ["fetch_invoice_details", "payment_reminder", "partner_ledger", "pdf_invoice"]


def _path_id(path) -> str:
    return ".".join(str(part) for part in path)


def _get(document, path):
    for part in path:
        document = document[part]
    return document


def _parent(document, path):
    return _get(document, path[:-1])


def _with(name, path, value):
    """A copy of sample ``name`` with the value at ``path`` replaced."""
    document = sample_payload(name)
    _parent(document, path)[path[-1]] = value
    return document


def _cases(name):
    return [pytest.param(name, path, id=f"{name}:{_path_id(path)}") for path in required_key_paths(name)]


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_a_valid_draft_2020_12_schema(name):
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_sample_validates(name):
    validate(sample_payload(name), name)


def test_sample_has_the_documented_shape():
    sample = sample_payload("new_invoice")
    assert [op["name"] for op in sample["operations"]] == EXPECTED_OPERATIONS
    invoice = _get(sample, INVOICE)
    assert len(invoice["invoice_lines"]) == 1
    assert len(invoice["attachments"]) == 1
    assert len(sample["operations"][2]["payload"]["ledger_entries"]) == 2
    assert json.loads(json.dumps(sample)) == sample  # plain JSON, round-trips


def test_validate_defaults_to_new_invoice():
    validate(sample_payload("new_invoice"))
    with pytest.raises(jsonschema.ValidationError):
        validate(sample_payload("payment_reminder"))


def test_unknown_schema_name_is_refused():
    with pytest.raises(ValueError, match="unknown webhook schema"):
        load_schema("nope")


def test_required_key_paths_cover_the_seed():
    paths = required_key_paths("new_invoice")
    assert len(paths) >= 45
    assert len(paths) == len(set(paths))
    assert ("operations", 0, "payload", "invoice", "invoice_lines", 0, "product") in paths
    assert (*ATTACHMENT, "write_date") in paths
    assert (*LEDGER_ENTRY, "balance") in paths
    assert ("operations", 3, "payload", "company_id") in paths
    assert all(isinstance(path[-1], str) for path in paths)
    # The reminder event carries the same operation as position 1 of new_invoice, at position 0.
    reminder_op = [("operations", 0, *path[2:]) for path in paths if path[:2] == ("operations", 1)]
    assert required_key_paths("payment_reminder") == [("event",), ("operations",), *reminder_op]
    assert len(reminder_op) == 9


def _sample_key_paths(node, prefix=()):
    """Every key path of a document; for arrays, only element 0 (like ``required_key_paths``)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _sample_key_paths(value, (*prefix, key))
    elif isinstance(node, list):
        elements = enumerate(node) if prefix == ("operations",) else list(enumerate(node))[:1]
        for index, value in elements:
            yield from _sample_key_paths(value, (*prefix, index))


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_required_key_paths_match_the_hand_written_sample(name):
    # The sample is written from the seed independently of the schema: neither may have a key the other lacks.
    assert sorted(map(_path_id, _sample_key_paths(sample_payload(name)))) == sorted(
        map(_path_id, required_key_paths(name)))


@pytest.mark.parametrize(("name", "path"), _cases("new_invoice") + _cases("payment_reminder"))
def test_missing_required_key_is_rejected(name, path):
    document = copy.deepcopy(sample_payload(name))
    del _parent(document, path)[path[-1]]
    with pytest.raises(jsonschema.ValidationError) as raised:
        validate(document, name)
    assert raised.value.validator == "required"
    assert path[-1] in raised.value.message


@pytest.mark.parametrize(("path", "value"), [
    pytest.param((*INVOICE, "amount_total"), "1450.50", id="amount_total-as-string"),
    pytest.param(("operations", 0, "payload", "company_id"), "5", id="company_id-as-string"),
    pytest.param(("operations", 3, "payload", "company_id"), 5.5, id="company_id-as-float"),
    pytest.param((*INVOICE, "invoice_date"), "22.11.2026", id="invoice_date-dotted"),
    pytest.param((*INVOICE, "invoice_date"), "2026-11-22T10:15:30Z", id="invoice_date-with-time"),
    pytest.param((*INVOICE, "invoice_date_due"), "2026-12-22\n", id="invoice_date_due-trailing-newline"),
    pytest.param((*ATTACHMENT, "create_date"), "2026-11-22", id="create_date-without-time"),
    pytest.param((*ATTACHMENT, "write_date"), "2026-11-22T10:15:30+02:00", id="write_date-not-utc"),
    pytest.param((*ATTACHMENT, "write_date"), "2026-11-22T10:15:30Z\n", id="write_date-trailing-newline"),
    pytest.param((*ATTACHMENT, "file_size"), None, id="file_size-null"),
    pytest.param((*INVOICE, "invoice_lines", 0, "quantity"), "12", id="quantity-as-string"),
    pytest.param((*INVOICE, "invoice_lines", 0, "subtotal"), True, id="subtotal-as-bool"),
    pytest.param((*LEDGER_ENTRY, "id"), 1.5, id="ledger-id-as-float"),
    pytest.param((*INVOICE, "currency"), None, id="currency-null"),
    pytest.param((*INVOICE, "invoice_lines"), {}, id="invoice_lines-not-array"),
    pytest.param(("event",), "payment_reminder", id="wrong-event"),
])
def test_wrong_types_are_rejected(path, value):
    with pytest.raises(jsonschema.ValidationError):
        validate(_with("new_invoice", path, value))


@pytest.mark.parametrize(("path", "value"), [
    pytest.param(("operations", 0, "payload", "invoice", "amount_residual"), "1450.5", id="amount-as-string"),
    pytest.param(("operations", 0, "payload", "invoice", "invoice_date_due"), "22.12.2026", id="due-dotted"),
    pytest.param(("operations", 0, "payload", "company_id"), "5", id="company_id-as-string"),
    pytest.param(("operations", 0, "name"), "pdf_invoice", id="wrong-operation-name"),
    pytest.param(("event",), "new_invoice", id="wrong-event"),
])
def test_payment_reminder_wrong_values_are_rejected(path, value):
    with pytest.raises(jsonschema.ValidationError):
        validate(_with("payment_reminder", path, value), "payment_reminder")


@pytest.mark.parametrize(("path", "value"), [
    pytest.param((*INVOICE, "invoice_date"), None, id="invoice_date-null"),
    pytest.param((*INVOICE, "invoice_date_due"), None, id="invoice_date_due-null"),
    pytest.param(("operations", 1, "payload", "invoice", "invoice_date_due"), None, id="reminder-due-null"),
    pytest.param((*INVOICE, "amount_total"), 1450, id="integer-amount"),
    pytest.param(("operations", 0, "payload", "company_id"), 1, id="other-company-id"),
    pytest.param((*ATTACHMENT, "create_date"), "2026-11-22T10:15:30.123456+00:00", id="fraction-and-offset"),
    pytest.param((*INVOICE, "invoice_lines"), [], id="no-lines"),
    pytest.param((*INVOICE, "attachments"), [], id="no-attachments"),
    pytest.param(("operations", 2, "payload", "ledger_entries"), [], id="no-ledger-entries"),
])
def test_allowed_variants_are_accepted(path, value):
    validate(_with("new_invoice", path, value))


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_envelope_and_extra_keys_are_accepted(name):
    document = sample_payload(name)
    document.update({"id": "msg_2f9c1e", "type": f"invoice.{name}", "timestamp": "2026-11-22T10:15:30Z",
                     "company": {"id": 5, "name": "My Company (Chicago)"}})
    document["operations"][0]["payload"]["invoice"]["id"] = 42
    document["operations"][0]["trace"] = "abc"
    validate(document, name)


@pytest.mark.parametrize("order", [
    pytest.param([1, 0, 2, 3], id="first-two-swapped"),
    pytest.param([0, 1, 3, 2], id="last-two-swapped"),
    pytest.param([3, 2, 1, 0], id="reversed"),
])
def test_operations_in_another_order_are_rejected(order):
    document = sample_payload("new_invoice")
    document["operations"] = [document["operations"][i] for i in order]
    with pytest.raises(jsonschema.ValidationError):
        validate(document)


@pytest.mark.parametrize("count", [3, 5])
def test_operations_must_be_exactly_four(count):
    document = sample_payload("new_invoice")
    operations = document["operations"]
    document["operations"] = operations[:count] if count < 4 else [*operations, copy.deepcopy(operations[3])]
    with pytest.raises(jsonschema.ValidationError):
        validate(document)


def test_payment_reminder_has_exactly_one_operation():
    document = sample_payload("payment_reminder")
    document["operations"].append(copy.deepcopy(document["operations"][0]))
    with pytest.raises(jsonschema.ValidationError):
        validate(document, "payment_reminder")


def test_payment_reminder_payload_matches_the_new_invoice_operation():
    new_invoice = load_schema("new_invoice")["$defs"]
    reminder = load_schema("payment_reminder")["$defs"]
    assert reminder["paymentReminderPayload"] == new_invoice["paymentReminderPayload"]
    assert reminder["paymentReminderOperation"] == new_invoice["paymentReminderOperation"]
    sample = sample_payload("new_invoice")
    validate({"event": "payment_reminder", "operations": [sample["operations"][1]]}, "payment_reminder")
