"""Komet's leniency (contract §1), method by method: what a client written for Komet's lenient
server sends is understood the same way on every method of the registry."""

import io
import json
from datetime import date, timedelta

import pytest
from django.db.models import F

from stemline.api import texts
from stemline.api.leniency import DATE, DATETIME, shapes
from stemline.api.naming import GROUPS
from stemline.api.registry import COMPANY, CUSTOMER, USER, VENDOR, registry
from stemline.catalog.models import BoxType, Category, Product
from stemline.core.models import Location
from stemline.parties.models import Carrier, Customer, ShipTo, Vendor
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db

UNKNOWN = "kometLegacyFlag"


@pytest.fixture
def tokens(company, make_token):
    """A token of each type holding every method, with a quota the walks cannot exhaust."""
    made = {}
    for token_type in (COMPANY, CUSTOMER, VENDOR):
        issued = make_token(company, token_type, all_methods=True)
        ApiToken.objects.filter(pk=issued.token.pk).update(
            grants=registry.names(), rate_per_second=10_000, rate_burst=10_000
        )
        made[token_type] = issued
    user = make_token(company, USER)
    ApiToken.objects.filter(pk=user.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    made[USER] = user
    return made


@pytest.fixture
def records(company):
    """One record of each kind the API names by id, code and description."""
    category = Category.objects.create(company=company, name="Roses")
    return {
        "carrier": Carrier.objects.create(company=company, name="FedEx Priority", code="FDX"),
        "customer": Customer.objects.create(company=company, name="Bloom Florist", code="BLOOM"),
        "vendor": Vendor.objects.create(
            company=company, name="Rosas del Monte", code="RDM", port_origin="UIO"
        ),
        "location": Location.objects.get(company=company, is_default=True),
        "product": Product.objects.create(
            company=company,
            category=category,
            description="Rose Freedom Red 50cm",
            variety="Freedom",
            legacy_code="RFR50",
        ),
        "boxType": BoxType.objects.get(company=company, code="HB"),
    }


def _token_for(method, tokens):
    for token_type in (COMPANY, CUSTOMER, VENDOR, USER):
        if method.accepts(token_type):
            return tokens[token_type]
    return None


def _walkable():
    return [m.name for m in registry if m.needs_token and m.name != "v2/vendor/invoice"]


def _fields_named(response) -> set[str]:
    return {e.get("field") for e in (response.json_body or {}).get("errors", [])}


@pytest.mark.parametrize("method_name", _walkable())
def test_every_method_ignores_an_unknown_parameter_and_names_it(api, company, tokens, method_name):
    method = registry.get(method_name)
    token = _token_for(method, tokens)
    verb = method.verbs[0]
    plain = api(method.name, token, {}, verb=verb, account=company.account_id)
    extra = api(method.name, token, {UNKNOWN: "1"}, verb=verb, account=company.account_id)
    assert extra.status_code == plain.status_code, (method_name, extra.json_body)
    assert UNKNOWN not in _fields_named(extra), (method_name, extra.json_body)
    assert extra["X-Ignored-Parameters"] == UNKNOWN, method_name
    assert extra.status_code < 500


@pytest.mark.parametrize("method_name", _walkable())
def test_every_method_refuses_an_unknown_parameter_for_a_strict_token(
    api, company, tokens, method_name
):
    method = registry.get(method_name)
    token = _token_for(method, tokens)
    ApiToken.objects.filter(pk=token.token.pk).update(
        strict_parameters=True, version=F("version") + 1
    )
    r = api(method.name, token, {UNKNOWN: "1"}, verb=method.verbs[0], account=company.account_id)
    assert r.status_code == 422, (method_name, r.json_body)
    assert r.json_body["message"] == f"{UNKNOWN}: is not a parameter of this method"


def _grouped_methods():
    out = []
    for method in registry:
        if not method.needs_token or method.name == "v2/vendor/invoice" or not method.check_names:
            continue
        known = shapes(method.request)
        for prefix, group in GROUPS.items():
            names = [f"{prefix}{suffix}" for suffix in group.names]
            if any(name in known for name in names):
                out.append((method.name, prefix))
    return out


def _names_of(prefix, record):
    code = {
        "product": record.legacy_code if isinstance(record, Product) else None,
    }.get(prefix) or getattr(record, "code", None)
    return record.pk, code


@pytest.mark.parametrize(("method_name", "prefix"), _grouped_methods())
def test_every_method_takes_an_id_beside_its_code_and_refuses_them_disagreeing(
    api, company, tokens, records, method_name, prefix
):
    method = registry.get(method_name)
    token = _token_for(method, tokens)
    record = records.get(prefix) or records["vendor" if prefix == "grower" else "location"]
    pk, code = _names_of(prefix, record)
    id_key, code_key = f"{prefix}Id", f"{prefix}Code"
    known = shapes(method.request)
    alone = {id_key: pk} if id_key in known else {code_key: code}
    verb = method.verbs[0]
    call = lambda data: api(method.name, token, data, verb=verb, account=company.account_id)  # noqa: E731

    agreeing = call({id_key: pk, code_key: code})
    single = call(alone)
    assert agreeing.status_code == single.status_code, (method_name, agreeing.json_body)
    assert not {id_key, code_key} & _fields_named(agreeing) - _fields_named(single)
    assert "X-Ignored-Parameters" not in agreeing

    disagreeing = call({id_key: pk, code_key: "NOPE9"})
    assert disagreeing.status_code == 422, (method_name, disagreeing.json_body)
    assert {id_key, code_key} <= _fields_named(disagreeing)
    assert "do not name the same" in disagreeing.json_body["message"]


def _dated_methods():
    out = []
    for method in registry:
        if not method.needs_token or method.name == "v2/vendor/invoice":
            continue
        for name in method.request.model_fields:
            kind = shapes(method.request)[name].kind.kind
            if kind in (DATE, DATETIME):
                out.append((method.name, name))
    return out


@pytest.mark.parametrize(("method_name", "field"), _dated_methods())
def test_every_date_takes_what_javascript_sends(api, company, tokens, method_name, field):
    method = registry.get(method_name)
    token = _token_for(method, tokens)
    day = date.today() + timedelta(days=3)
    verb = method.verbs[0]
    forms = [
        day.isoformat(),
        f"{day.isoformat()}T00:00:00.000Z",  # new Date('YYYY-MM-DD').toISOString()
        f"{day.isoformat()} 00:00:00",
        day.strftime("%m/%d/%Y"),
    ]
    answers = [
        api(method.name, token, {field: form}, verb=verb, account=company.account_id)
        for form in forms
    ]
    canonical = answers[0]
    for form, answer in zip(forms, answers, strict=True):
        assert answer.status_code == canonical.status_code, (method_name, form, answer.json_body)
        assert answer.json_body["message"] == canonical.json_body["message"], (method_name, form)
        # Whatever the method says of the date, it says the same of every form of it.
        assert (field in _fields_named(answer)) == (field in _fields_named(canonical))


# ---------------------------------------------------------------- shapes, one by one


def test_lists_take_commas_and_colons(api, stocked, company_token):
    lines = [stocked.add(boxes=2), stocked.add(boxes=3)]
    ids = [line.pk for line in lines]
    for sep in (",", ":"):
        r = api(
            "inventory.list",
            company_token,
            {"inventoryIds": sep.join(map(str, ids))},
            verb="GET",
        )
        assert r.status_code == 200, r.json_body
        assert sorted(i["inventoryId"] for i in r.json_body["inventoryItems"]) == sorted(ids)


def test_numbers_and_booleans_as_strings_and_empty_optionals(api, company, company_token):
    category = Category.objects.create(company=company, name="Roses")
    product = Product.objects.create(
        company=company,
        category=category,
        description="Rose Vendela 60cm",
        variety="Vendela",
        legacy_code="RV60",
    )
    r = api(
        "product.list",
        company_token,
        {"id": f" {product.pk} ", "includeInactive": "", "legacyCode": "rv60"},
        verb="GET",
    )
    assert r.status_code == 200, r.json_body
    assert [p["id"] for p in r.json_body["products"]] == [product.pk]
    r = api("product.update", company_token, {"productId": str(product.pk), "active": "false"})
    assert r.status_code == 200, r.json_body
    product.refresh_from_db()
    assert product.active is False


def test_post_query_string_counts_with_a_body_and_without(client, company, company_token):
    category = Category.objects.create(company=company, name="Roses")
    product = Product.objects.create(
        company=company,
        category=category,
        description="Rose Mondial 50cm",
        variety="Mondial",
        legacy_code="RM50",
    )
    headers = {"HTTP_AUTHENTICATIONTOKEN": company_token.secret}
    bare = client.post(f"/api/product.list?id={product.pk}", **headers)
    with_body = client.post(
        f"/api/product.list?id={product.pk}",
        json.dumps({"active": 1}),
        content_type="application/json",
        **headers,
    )
    for r in (bare, with_body):
        body = json.loads(r.content)
        assert r.status_code == 200, body
        assert [p["id"] for p in body["products"]] == [product.pk]


def test_a_code_alone_reaches_a_method_that_takes_the_id(api, company, company_token):
    """customerCode sent where the method takes customerId: translated, not ignored."""
    florist = Customer.objects.create(company=company, name="Bloom Florist", code="BLOOM")
    other = Customer.objects.create(company=company, name="Petal Shop", code="PETAL")
    ShipTo.objects.create(company=company, customer=florist, name="Bloom Downtown")
    ShipTo.objects.create(company=company, customer=other, name="Petal Uptown")
    r = api("customer.shipto.list", company_token, {"customerCode": "bloom"}, verb="GET")
    assert r.status_code == 200, r.json_body
    assert [s["name"] for s in r.json_body["shiptos"]] == ["Bloom Downtown"]
    assert "X-Ignored-Parameters" not in r


def test_another_companys_id_beside_a_code_is_refused_as_disagreeing(
    api, company, other_company, company_token
):
    mine = Carrier.objects.create(company=company, name="FedEx", code="FDX")
    theirs = Carrier.objects.create(company=other_company, name="FedEx", code="FDX")
    r = api("carrier.list", company_token, {"carrierId": theirs.pk, "carrierCode": "FDX"})
    assert r.status_code == 422
    assert "do not name the same carrier" in r.json_body["message"]
    assert str(mine.pk) not in r.json_body["message"]


# ---------------------------------------------------------------- words


@pytest.mark.parametrize("method_name", sorted(n for n in texts.EMPTY if registry.get(n)))
def test_every_list_says_not_found_exactly_when_it_is_empty(api, company, tokens, method_name):
    method = registry.get(method_name)
    token = _token_for(method, tokens)
    known = shapes(method.request)
    nothing = {"name": "zzqq none", "code": "ZZQ", "searchText": "zzqq none", "awb": "000-0"}
    params = {k: v for k, v in nothing.items() if k in known}
    for name, shape in known.items():
        if shape.required and shape.kind.kind == DATE:
            params[name] = "2001-01-02"
    for name in ("orderDateFrom", "orderDateTo", "shipDate"):
        if name in known:
            params[name] = "2001-01-02"
    if (
        "customerId" in known
        and known["customerId"].required
        or method_name
        in (
            "customer.shipto.list",
            "ecommerce/inventory.list",
            "ecommerce/inventory.get",
        )
    ):
        params["customerId"] = (
            token.token.customer_id or Customer.objects.create(company=company, name="Empty Co").pk
        )
    r = api(method.name, token, params, verb="GET", account=company.account_id)
    if r.status_code != 200:
        pytest.skip(f"needs parameters this walk does not make up: {r.json_body['message']}")
    body = r.json_body
    listed = [v for k, v in body.items() if isinstance(v, list)]
    assert body["status"] == 1
    if listed and not any(listed):
        assert body["message"] == texts.EMPTY[method_name], body
    else:
        assert body["message"] != texts.EMPTY[method_name], body


def test_the_three_texts_the_reference_gives_verbatim(api, company, company_token):
    assert api("product.list", company_token, verb="GET").json_body["message"] == (
        "Products not found."
    )
    r = api("boxtype.list", company_token, {"code": "ZZZ"}, verb="GET")
    assert r.json_body["message"] == "Boxtype not found."
    window = {"orderDateFrom": "2001-01-02", "orderDateTo": "2001-01-03"}
    r = api("invoice.details.list", company_token, window, verb="GET")
    assert r.json_body["message"] == "Orders not found."


def test_validation_speaks_the_contracts_words(api, stocked, company_token):
    r = api(
        "inventory.add",
        company_token,
        {
            "productId": stocked.product.pk,
            "boxTypeCode": "HB",
            "vendorCode": "RDM",
            "quantity": 1000,
            "unitsPerBox": 250,
        },
    )
    assert r.status_code == 422, r.json_body
    assert all("Input should" not in e["message"] for e in r.json_body["errors"])
    error = next(e for e in r.json_body["errors"] if e["field"] == "quantity")
    assert error["message"] == "must be between 1 and 100"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"id": "abc"}, "id: must be a whole number"),
        ({"id": 10**30}, "id: must be between 1 and 9223372036854775807"),
        ({"includeInactive": "maybe"}, "includeInactive: must be true or false (1 or 0)"),
    ],
)
def test_validation_messages(api, company_token, data, expected):
    r = api("product.list", company_token, data, verb="GET")
    assert r.status_code == 422
    assert r.json_body["message"] == expected


# ---------------------------------------------------------------- failures as 200


def test_a_token_may_ask_for_failures_as_200(api, company, company_token):
    ApiToken.objects.filter(pk=company_token.token.pk).update(
        failures_as_200=True, version=F("version") + 1
    )
    r = api("product.list", company_token, {"id": "abc"}, verb="GET")
    assert r.status_code == 200
    assert r.json_body["status"] == 0
    assert r.json_body["message"] == "id: must be a whole number"
    assert r["X-Stemline-Status"] == "422"
    r = api("product.update", company_token, {"productId": 999_999})
    assert (r.status_code, r.json_body["status"], r["X-Stemline-Status"]) == (200, 0, "404")
    ok = api("product.list", company_token, verb="GET")
    assert ok.status_code == 200 and "X-Stemline-Status" not in ok


def test_failures_keep_honest_codes_by_default(api, company_token):
    r = api("product.list", company_token, {"id": "abc"}, verb="GET")
    assert r.status_code == 422


# ---------------------------------------------------------------- bodies (issue 11, item 9)


def test_json_nested_thousands_of_levels_is_400_not_500(api, company_token):
    raw = ("[" * 30_000 + "]" * 30_000).encode()
    raw = b'{"id": ' + raw + b"}"
    r = api("product.list", company_token, raw=raw)
    assert r.status_code == 400
    assert "nested deeper" in r.json_body["message"]
    r = api("product.list", company_token, raw=b'{"a":' * 40 + b"1" + b"}" * 40)
    assert r.status_code == 400


def test_more_than_a_thousand_form_fields_is_400_not_500(api, company_token):
    body = "&".join(f"f{i}=1" for i in range(1_500))
    r = api(
        "product.list",
        company_token,
        raw=body.encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 400
    assert "more than 1,000 fields" in r.json_body["message"]


def test_more_than_a_thousand_query_parameters_is_400_not_500(client, company_token):
    query = "&".join(f"f{i}=1" for i in range(1_500))
    r = client.get(f"/api/product.list?{query}", HTTP_AUTHENTICATIONTOKEN=company_token.secret)
    assert r.status_code == 400
    assert json.loads(r.content)["status"] == 0


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_chunked_body_is_read_as_a_wsgi_server_hands_it_over(client, company, company_token):
    category = Category.objects.create(company=company, name="Roses")
    product = Product.objects.create(
        company=company,
        category=category,
        description="Rose Explorer",
        variety="Explorer",
        legacy_code="REX",
    )
    raw = json.dumps({"id": product.pk}).encode()
    r = client.generic(
        "POST",
        "/api/product.list",
        b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        HTTP_AUTHENTICATIONTOKEN=company_token.secret,
        **{"wsgi.input": CountingStream(raw)},
    )
    body = json.loads(r.content)
    assert r.status_code == 200, body
    assert [p["id"] for p in body["products"]] == [product.pk]


def test_a_chunked_body_over_the_limit_is_413(client, company_token):
    stream = CountingStream(b'{"x": "' + b"a" * 200_000 + b'"}')
    r = client.generic(
        "POST",
        "/api/product.list",
        b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        HTTP_AUTHENTICATIONTOKEN=company_token.secret,
        **{"wsgi.input": stream},
    )
    assert r.status_code == 413
    assert stream.bytes_read <= 64 * 1024 + 1


@pytest.mark.parametrize("secret", [None, "not-a-real-token-" + "x" * 30])
def test_a_large_body_without_a_valid_token_is_refused_unread(client, secret):
    size = 20 * 1024 * 1024 - 1024
    stream = CountingStream(b"\0" * size)
    headers = {"HTTP_AUTHENTICATIONTOKEN": secret} if secret else {}
    r = client.generic(
        "POST",
        "/api/v2/vendor/invoice",
        b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(size),
        **headers,
        **{"wsgi.input": stream},
    )
    assert r.status_code == 401
    # At most the first 64 KB is looked at (for a token sent in the body before its file).
    assert stream.bytes_read <= 64 * 1024
