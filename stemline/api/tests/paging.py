"""Checks every paged long list passes (issue 17 item 4), shared by the apps' tests: the pages
put together are the unpaged list, with the right total; past the end is empty; bad paging is
refused naming the field; a long unpaged answer is streamed with the same documents; a page
costs the same queries whatever its length; answers are what the response schema writes."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from stemline.api.registry import registry


def ok(r) -> dict:
    assert r.status_code == 200, r.json_body
    assert r.json_body["status"] == 1, r.json_body
    return r.json_body


def schema_shaped(method: str, body: bytes) -> None:
    """The answer is what the response schema would write from it: every field there, of its
    type, written as pydantic writes it."""
    model = registry.get(method).response
    written = model.model_validate_json(body).model_dump_json(exclude_unset=True)
    assert json.loads(written) == json.loads(body)


def check_paging(
    api, token, method: str, params: dict, key: str, *, count: int, module, monkeypatch, verb="GET"
) -> list[dict]:
    """Runs every check on a list of `count` (at least 3) documents; `module` holds the
    method's STREAM_FROM. Returns the unpaged list."""
    assert count >= 3

    def call(extra=None):
        return api(method, token, {**params, **(extra or {})}, verb=verb)

    r = call()
    whole = ok(r)
    schema_shaped(method, r.body)
    assert not r.streaming and "total" not in whole and "page" not in whole
    docs = whole[key]
    assert len(docs) == count

    size, seen, page = 2, [], 1
    while len(seen) < count:
        r = call({"page": page, "rows": size})
        body = ok(r)
        schema_shaped(method, r.body)
        assert (body["total"], body["page"], body["rows"]) == (count, page, size)
        assert len(body[key]) == min(size, count - len(seen))
        seen += body[key]
        page += 1
    # Every document exactly once, in the order of the whole list, as the whole list has it.
    assert seen == docs

    past = ok(call({"page": page, "rows": size}))
    assert past[key] == [] and past["total"] == count and past["page"] == page
    only_page = ok(call({"page": 1}))
    assert only_page["rows"] == 100 and only_page[key] == docs
    only_rows = ok(call({"rows": 1}))
    assert only_rows["page"] == 1 and only_rows[key] == docs[:1]

    for bad in (0, 1001, "x"):
        r = call({"page": 1, "rows": bad})
        assert r.status_code == 422, (bad, r.json_body)
        assert r.json_body["status"] == 0 and r.json_body["errors"][0]["field"] == "rows"
        assert r.json_body["message"].startswith("rows: ")
    r = call({"page": 0})
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "page"

    # Longer than STREAM_FROM: streamed, the same documents.
    stream_from = module.STREAM_FROM
    monkeypatch.setattr(module, "STREAM_FROM", count - 1)
    r = call()
    assert r.streaming and r["Content-Type"] == "application/json"
    assert ok(r)[key] == docs and "total" not in r.json_body
    schema_shaped(method, r.body)
    r = call({"rows": 1000})
    assert not r.streaming and ok(r)[key] == docs  # a page is never streamed
    monkeypatch.setattr(module, "STREAM_FROM", stream_from)

    # A page of one document costs the queries a page of all of them does.
    with CaptureQueriesContext(connection) as one:
        assert len(ok(call({"rows": 1}))[key]) == 1
    with CaptureQueriesContext(connection) as many:
        assert len(ok(call({"rows": count}))[key]) == count
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]
    return docs


def check_other_company_sees_none(api, token, method: str, params: dict, key: str, verb="GET"):
    """A token of another company finds none of these documents, paged or not."""
    assert ok(api(method, token, params, verb=verb))[key] == []
    body = ok(api(method, token, {**params, "page": 1, "rows": 10}, verb=verb))
    assert body[key] == [] and body["total"] == 0
