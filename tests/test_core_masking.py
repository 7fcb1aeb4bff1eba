import json

from ib_lib.core_masking import mask_headers, mask_text, mask_value, sanitize, truncate


def test_mask_value_keeps_a_recognisable_prefix_only():
    assert mask_value("abcdefghijkl") == "abcd***"
    assert mask_value("short") == "***"


def test_headers():
    masked = mask_headers({"Authorization": "Bearer abcdefghijkl", "webhook-signature": "v1,xxxxxxxxxxxxxxxx",
                           "Content-Type": "application/json"})
    assert "abcdefghijkl" not in json.dumps(masked)
    assert "xxxxxxxxxxxxxxxx" not in json.dumps(masked)
    assert masked["Content-Type"] == "application/json"


def test_json_keys_literals_and_inline_credentials():
    body = json.dumps({"a": {"api_key": "k" * 20, "password": "p" * 12}, "note": "see Bearer tttttttttttt",
                       "url": "https://x/my/invoices/1?access_token=0123-4567-89ab", "secret": "whsec_QUJDREVGR0g="})
    text = mask_text(body, secrets=["plainsecretvalue"])
    for leaked in ("k" * 20, "p" * 12, "tttttttttttt", "0123-4567-89ab", "QUJDREVGR0g="):
        assert leaked not in text
    assert "plainsecretvalue" not in mask_text("echo plainsecretvalue", secrets=["plainsecretvalue"])


def test_truncate_and_sanitize():
    assert truncate("x" * 10, 20) == "x" * 10
    cut = truncate("x" * 100, 20)
    assert cut.startswith("x" * 20) and "80 more characters truncated" in cut
    assert sanitize(None) is None
    assert sanitize(b"bytes are decoded") == "bytes are decoded"
