"""`stemline check --deploy` passes with production variables and names what is missing."""

import os
import secrets
import subprocess
import sys


def _check(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "STEMLINE_TOKEN_KEY")}
    env.update({"DJANGO_SETTINGS_MODULE": "stemline.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "-m", "stemline", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_variables(tmp_path):
    result = _check(
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "STEMLINE_TOKEN_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "flowers.example.com",
            "STEMLINE_HTTPS": "1",
            "DEBUG": "0",
            "STEMLINE_VAR_DIR": str(tmp_path),
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_refuses_the_development_secrets(tmp_path):
    result = _check(
        {
            "ALLOWED_HOSTS": "flowers.example.com",
            "STEMLINE_HTTPS": "1",
            "STEMLINE_VAR_DIR": str(tmp_path),
        }
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "SECRET_KEY is not set" in output
    assert "STEMLINE_TOKEN_KEY is not set" in output
