"""login.forgot.password: the old password stops working, the web's reset link is e-mailed
by a background task, and the answer never tells whether the login exists."""

import pytest
from django.contrib.auth import authenticate
from django.test import override_settings

from stemline.core.models import Role
from stemline.core.services import create_user

from .helpers import refused

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PASSWORD = "tulip-garden-42"


@pytest.fixture
def person(company):
    return create_user(
        company=company, email="Rosa.Rep@example.com", role=Role.SALES, password=PASSWORD
    )


def _forgot(api, token, name, verb="GET"):
    return api("login.forgot.password", token, {"userName": name}, verb=verb)


@override_settings(TASKS=IMMEDIATE)
def test_reset_mails_the_web_link_and_the_old_password_stops_working(
    api, client, company_token, person, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = _forgot(api, company_token, "rosa.rep@EXAMPLE.com")
    assert r.status_code == 200 and r.json_body == {"result": "1"}
    assert authenticate(username=person.username, password=PASSWORD) is None
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["Rosa.Rep@example.com"]
    assert mailoutbox[0].subject == "Reset your Stemline password"
    link = next(w for w in mailoutbox[0].body.split() if "/password/reset/" in w)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert b"new_password1" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "orchid-valley-88", "new_password2": "orchid-valley-88"},
    )
    assert done.status_code == 302
    assert authenticate(username=person.username, password="orchid-valley-88") is not None


@override_settings(TASKS=IMMEDIATE)
@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_the_answer_is_the_same_for_unknown_and_other_companys_users(
    api, company_token, other_company, mailoutbox, django_capture_on_commit_callbacks, verb
):
    stranger = create_user(
        company=other_company, email="them@example.com", role=Role.ADMIN, password=PASSWORD
    )
    with django_capture_on_commit_callbacks(execute=True):
        unknown = _forgot(api, company_token, "nobody@example.com", verb)
        other = _forgot(api, company_token, "them@example.com", verb)
    assert unknown.status_code == other.status_code == 200
    assert unknown.content == other.content == b'{"result":"1"}'
    assert mailoutbox == []
    assert authenticate(username=stranger.username, password=PASSWORD) is not None


def test_refusals(api, company, make_token, person):
    company_token = make_token(company)
    refused(api("login.forgot.password", company_token, {}, verb="GET"), 422, "userName")
    refused(_forgot(api, company_token, "x" * 101), 422, "userName")
    for token_type in ("customer", "vendor", "user"):
        refused(_forgot(api, make_token(company, token_type), person.username), 403)
    bare = make_token(company, grants=["customer.list"])
    refused(_forgot(api, bare, person.username), 403)
    assert authenticate(username=person.username, password=PASSWORD) is not None


def test_a_flood_of_resets_is_throttled_for_any_name(api, company_token, person):
    for name in (person.username, "nobody@example.com"):
        for _ in range(3):
            ok_answer = _forgot(api, company_token, name)
            assert ok_answer.json_body == {"result": "1"}
        body = refused(_forgot(api, company_token, name), 429)
        assert "Retry-After" in _forgot(api, company_token, name).headers
        assert body["message"].startswith("too many password resets")
