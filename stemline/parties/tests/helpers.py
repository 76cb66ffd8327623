"""Checks of API answers shared by the parties tests."""


def ok(response) -> dict:
    """The answer of a successful call."""
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1, response.json_body
    return response.json_body


def refused(response, http_status: int, field: str | None = None) -> dict:
    """The answer of a refused call: the status, `status: 0`, and the field it names."""
    body = response.json_body
    assert response.status_code == http_status, body
    assert body["status"] == 0, body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
        assert body["message"].startswith(f"{field}:"), body
    return body
