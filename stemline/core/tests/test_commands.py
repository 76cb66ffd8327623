"""The operator commands: bootstrap, token create/reset/revoke/list, and the production server."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from stemline.core.models import Company, User
from stemline.parties.models import Customer, Vendor
from stemline.tokens.models import ApiToken


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def line(output: str, label: str) -> str:
    """The value of the `label: value` line the output must hold exactly once."""
    values = [row[len(label) + 2 :] for row in output.splitlines() if row.startswith(f"{label}: ")]
    assert len(values) == 1, output
    return values[0]


def products(api, secret):
    return api("product.list", secret, verb="GET")


# ---------------------------------------------------------------- bootstrap


@pytest.mark.django_db
def test_bootstrap_prints_company_id_and_a_token_that_calls_the_api(api):
    out = run(
        "bootstrap",
        "--company",
        "Bogota Blooms Inc",
        "--admin",
        "owner@bogotablooms.example",
        "--password",
        "Carnation-Fields-7",
        "--print-token",
    )
    company = Company.objects.get(name="Bogota Blooms Inc")
    assert line(out, "Company ID") == str(company.account_id)
    secret = line(out, "Token")

    response = products(api, secret)
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1
    # X-ACCOUNT with the printed Company ID is what an integration sends.
    response = api("product.list", secret, verb="GET", account=company.account_id)
    assert response.status_code == 200
    admin = User.objects.get(username="owner@bogotablooms.example")
    assert admin.company == company and admin.role == "admin"
    assert admin.check_password("Carnation-Fields-7")


@pytest.mark.django_db
def test_bootstrap_without_print_token_keeps_the_secret_to_itself():
    out = run("bootstrap", "--company", "Quiet Roses", "--admin", "a@quietroses.example")
    assert "Token:" not in out
    token = ApiToken.objects.get(company__name="Quiet Roses")
    assert token.key_prefix not in out
    assert line(out, "Company ID") == str(token.company.account_id)


@pytest.mark.django_db
def test_bootstrap_refuses_an_admin_email_already_in_use():
    run("bootstrap", "--company", "First Farm", "--admin", "boss@farm.example")
    with pytest.raises(CommandError, match=r"(?i)--admin: .*boss@farm.example already exists"):
        run("bootstrap", "--company", "Second Farm", "--admin", "BOSS@farm.example")
    # Nothing of the refused company was left behind.
    assert not Company.objects.filter(name="Second Farm").exists()


@pytest.mark.django_db
def test_bootstrap_refuses_a_blank_company_and_a_bad_email():
    with pytest.raises(CommandError, match="--company"):
        run("bootstrap", "--company", "  ", "--admin", "x@y.example")
    with pytest.raises(CommandError, match="--admin: must be an e-mail address"):
        run("bootstrap", "--company", "Fine Name", "--admin", "not-an-email")
    assert Company.objects.count() == 0


def _shell_env(tmp_path) -> dict:
    # A file database of its own: the command runs in another process, outside the test's
    # transaction, and must not touch the test run's database.
    env = {**os.environ, "STEMLINE_VAR_DIR": str(tmp_path)}
    env["DJANGO_SETTINGS_MODULE"] = "stemline.settings"
    env.pop("DATABASE_URL", None)
    env.pop("DEBUG", None)
    return env


def stemline(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stemline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bootstrap_from_the_shell_exits_non_zero_on_a_taken_admin(tmp_path):
    env = _shell_env(tmp_path)
    assert stemline(env, "migrate", "-v", "0").returncode == 0
    args = ["bootstrap", "--company", "Shell Farm", "--admin", "root@shellfarm.example"]
    first = stemline(env, *args, "--print-token")
    assert first.returncode == 0, first.stderr
    assert line(first.stdout, "Company ID").isdigit()
    assert len(line(first.stdout, "Token")) == 40

    second = stemline(env, *args)
    assert second.returncode != 0
    assert "--admin: a user root@shellfarm.example already exists" in second.stderr
    assert "Traceback" not in second.stderr


# ---------------------------------------------------------------- token


@pytest.mark.django_db
def test_token_create_company_token_with_grants_lists_products(api, company):
    out = run(
        "token",
        "create",
        "--company",
        str(company.account_id),
        "--type",
        "company",
        "--grant",
        "product.list",
        "boxtype.list",
        "--description",
        "ERP link",
    )
    secret = line(out, "Token")
    token = ApiToken.objects.get(pk=int(line(out, "Token ID")))
    assert token.grants == ["boxtype.list", "product.list"]
    assert token.description == "ERP link"
    assert products(api, secret).status_code == 200
    # A method it was not granted is refused.
    assert api("category.list", secret, verb="GET").status_code == 403


@pytest.mark.django_db
def test_token_create_customer_and_vendor_tokens_are_bound(company):
    customer = Customer.objects.create(company=company, name="FTD", customer_type=6)
    vendor = Vendor.objects.create(company=company, name="Flores de la Sabana", port_origin="BOG")
    out = run(
        "token",
        "create",
        "--company",
        str(company.account_id),
        "--type",
        "customer",
        "--customer",
        str(customer.pk),
        "--all-grants",
        "--transactional",
    )
    token = ApiToken.objects.get(pk=int(line(out, "Token ID")))
    assert token.customer == customer and token.transactional
    out = run(
        "token",
        "create",
        "--company",
        str(company.account_id),
        "--type",
        "vendor",
        "--vendor",
        str(vendor.pk),
        "--grant",
        "product.list,boxtype.list",
    )
    token = ApiToken.objects.get(pk=int(line(out, "Token ID")))
    assert token.vendor == vendor and token.grants == ["boxtype.list", "product.list"]

    listing = run("token", "list", "--company", str(company.account_id))
    assert "customer" in listing and "FTD" in listing
    assert "Flores de la Sabana" in listing


@pytest.mark.django_db
def test_token_reset_replaces_the_secret_at_once(api, company):
    out = run(
        "token", "create", "--company", str(company.account_id), "--type", "company", "--all-grants"
    )
    old, token_id = line(out, "Token"), line(out, "Token ID")
    assert products(api, old).status_code == 200

    new = line(run("token", "reset", "--id", token_id), "Token")
    assert new != old
    assert products(api, old).status_code == 401
    assert products(api, new).status_code == 200


@pytest.mark.django_db
def test_token_revoke_stops_the_secret(api, company):
    out = run(
        "token", "create", "--company", str(company.account_id), "--type", "company", "--all-grants"
    )
    secret, token_id = line(out, "Token"), line(out, "Token ID")
    run("token", "revoke", "--id", token_id)
    response = products(api, secret)
    assert response.status_code == 401
    assert response.json_body["status"] == 0
    listing = run("token", "list", "--company", str(company.account_id))
    assert "revoked" in listing
    with pytest.raises(CommandError, match="revoked token cannot be reset"):
        run("token", "reset", "--id", token_id)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--company", "1", "--type", "company", "--all-grants"], "--company: no company"),
        (["--company", None, "--type", "company", "--all-grants"], "--company"),
        (["--type", "partner", "--all-grants"], "invalid choice"),
        (["--type", "company"], "--grant METHOD or --all-grants"),
        (["--type", "company", "--grant", "no.such.method"], "--grant: unknown API method"),
        (["--type", "company", "--grant", "product.list", "--all-grants"], "not both"),
        (["--type", "customer", "--all-grants"], "--customer: a Customer token must name"),
        (
            ["--type", "customer", "--customer", "999999", "--all-grants"],
            "--customer: customer 999999",
        ),
        (["--type", "company", "--vendor", "1", "--all-grants"], "--vendor: only a Vendor token"),
    ],
)
def test_token_create_refuses_bad_arguments(company, args, message):
    if "--company" not in args:
        args = ["--company", str(company.account_id), *args]
    # None stands for "leave the option out".
    args = [a for i, a in enumerate(args) if a is not None and args[i + 1 : i + 2] != [None]]
    with pytest.raises(CommandError, match=message):
        run("token", "create", *args)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_token_commands_refuse_an_unknown_token_and_a_missing_action():
    with pytest.raises(CommandError, match="--id: token 424242 does not exist"):
        run("token", "reset", "--id", "424242")
    with pytest.raises(CommandError, match="--id: token 424242 does not exist"):
        run("token", "revoke", "--id", "424242")
    with pytest.raises(CommandError, match="ACTION"):
        run("token")


@pytest.mark.django_db
def test_a_second_customer_token_is_refused_with_the_way_out(company):
    customer = Customer.objects.create(company=company, name="BloomNet", customer_type=6)
    args = [
        "token",
        "create",
        "--company",
        str(company.account_id),
        "--type",
        "customer",
        "--customer",
        str(customer.pk),
        "--all-grants",
    ]
    run(*args)
    with pytest.raises(CommandError, match="already has an active token; reset or revoke"):
        run(*args)


# ---------------------------------------------------------------- serve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_and_serves_the_app_and_static_files(tmp_path):
    port = _free_port()
    env = _shell_env(tmp_path)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stemline",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    assert r.headers["Server"].startswith("gunicorn")
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the server did not answer within 30 s"
                time.sleep(0.2)
        # collectstatic ran, and whitenoise serves what the pages link to.
        assert (tmp_path / "static" / "ninja").is_dir()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/docs", timeout=5) as r:
            page = r.read().decode()
        static_path = page.split('href="/static/', 1)[1].split('"', 1)[0]
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/{static_path}", timeout=5
        ) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/css")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0


def test_serve_refuses_a_bad_port():
    with pytest.raises(CommandError, match="--port must be between 1 and 65535"):
        call_command("serve", "--port", "70000", "--skip-collectstatic")
