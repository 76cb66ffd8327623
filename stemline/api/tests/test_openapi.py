"""The OpenAPI document and the readable docs come from the registry."""

import pytest

from stemline.api.registry import registry

pytestmark = pytest.mark.django_db


def test_openapi_lists_every_method_with_its_verbs_and_token_types(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    for method in registry:
        path = doc["paths"][f"/api/{method.name}"]
        assert sorted(path) == sorted(v.lower() for v in method.verbs), method.name
        for operation in path.values():
            assert operation["x-token-types"] == sorted(t.capitalize() for t in method.token_types)
            assert "200" in operation["responses"]
            assert "422" in operation["responses"]
    # An alias path is documented beside its method, as the same operation.
    assert len(doc["paths"]) == len(registry) + len(registry.aliases())
    for alias, name in registry.aliases().items():
        assert doc["paths"][f"/api/{alias}"].keys() == doc["paths"][f"/api/{name}"].keys()


def test_request_fields_keep_komet_spelling(client):
    doc = client.get("/api/openapi.json").json()
    post = doc["paths"]["/api/product.add"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = doc["components"]["schemas"][ref]["properties"]
    assert {"category", "variety", "color", "grade", "defaultUnitType"} <= set(fields)
    get = doc["paths"]["/api/product.list"]["get"]
    assert {"id", "description", "legacyCode"} <= {p["name"] for p in get["parameters"]}


def test_docs_page_is_served_without_a_cdn(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "/api/openapi.json" in html
    assert "cdn." not in html and "https://" not in html.split("<body", 1)[0]
