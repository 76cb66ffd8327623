"""docs/api.md stays what the method registry generates, and says what a caller must send."""

import pytest
from django.core.management import CommandError, call_command
from pydantic import Field

from stemline.api.docs import DocSchema, default_path, field_rows, render
from stemline.api.registry import registry
from stemline.api.schemas import Count, Id, Money, Params, Str


def _section(doc: str, name: str) -> str:
    start = doc.index(f"\n### `{name}`\n")
    end = doc.find("\n### ", start + 1)
    return doc[start : end if end != -1 else len(doc)]


def test_docs_api_md_is_current():
    path = default_path()
    assert path.exists(), "docs/api.md is missing: run `stemline apidocs`"
    assert path.read_text(encoding="utf-8") == render(), (
        "docs/api.md differs from what the method registry generates: run `stemline apidocs`"
    )


def test_every_registered_method_has_a_section_and_a_contents_entry():
    doc = render()
    assert len(registry) > 0
    for method in registry:
        assert f"\n### `{method.name}`\n" in doc, method.name
        assert f"[`{method.name}`](#" in doc, method.name
    assert f"{len(registry)} methods." in doc


def test_rendering_is_deterministic():
    assert render() == render()


def test_method_section_states_the_contract():
    doc = render()
    add = _section(doc, "product.add")
    # A required, length-limited parameter, an enum with its default, and idempotency support.
    assert "| `category` | string | yes | not empty; at most 200 characters |" in add
    assert "one of `Stem`, `Bunch`; default `Stem`" in add
    assert "| Idempotency-Key | supported on `POST` |" in add
    assert "| Verbs | `POST` |" in add
    assert "| `productId` | integer |" in add

    listing = _section(doc, "product.list")
    assert "| Verbs | `GET`, `POST` |" in listing
    assert "| Token types | Company, User, Vendor |" in listing
    assert "| Idempotency-Key | not used |" in listing
    # Rows of a list are documented field by field.
    assert "| `products[].legacyCode` | string |" in listing

    assert "| X-ACCOUNT | **required** |" in _section(doc, "company.location.list")
    assert "| Token types | none: called without a token |" in _section(doc, "login")


def test_header_documents_the_conventions():
    doc = render()
    for needle in (
        "authenticationToken",
        "X-ACCOUNT",
        "Idempotency-Key",
        "RateLimit-Remaining",
        "Retry-After",
        "| 413 |",
        "| 429 |",
        '"status": 0',
    ):
        assert needle in doc, needle


def test_check_fails_on_a_stale_file_and_passes_after_regenerating(tmp_path):
    target = tmp_path / "api.md"
    with pytest.raises(CommandError, match="run `stemline apidocs`"):
        call_command("apidocs", "--check", "--output", str(target))
    call_command("apidocs", "--output", str(target))
    assert target.read_text(encoding="utf-8") == render()
    call_command("apidocs", "--check", "--output", str(target))

    target.write_text(render().replace("### `product.list`", "### `product.lost`"))
    with pytest.raises(CommandError, match="stale"):
        call_command("apidocs", "--check", "--output", str(target))


class _Line(Params):
    inventoryId: Id | None = None
    price: Money(10, 2)
    boxes: Count = 1


class _Order(Params):
    customerId: Id
    notes: Str(20) | None = Field(None, description="free text | shown on the invoice")
    invoiceItems: list[_Line] = Field(max_length=100)


def test_nested_lines_are_documented_field_by_field():
    rows = {r["name"]: r for r in field_rows(_Order.model_json_schema(schema_generator=DocSchema))}
    assert list(rows) == [
        "customerId",
        "notes",
        "invoiceItems",
        "invoiceItems[].inventoryId",
        "invoiceItems[].price",
        "invoiceItems[].boxes",
    ]
    assert rows["invoiceItems"]["type"] == "array of object"
    assert "at most 100 items" in rows["invoiceItems"]["constraints"]
    price = rows["invoiceItems[].price"]
    assert price["required"] and price["type"] == "decimal"
    assert price["constraints"] == ["at most 10 digits", "at most 2 decimal places"]
    assert rows["invoiceItems[].inventoryId"]["nullable"]
    assert rows["invoiceItems[].boxes"]["constraints"] == [">= 0", "<= 2000000000", "default `1`"]
    assert rows["notes"]["description"] == "free text | shown on the invoice"
