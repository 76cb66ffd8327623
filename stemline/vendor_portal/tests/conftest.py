"""The web tests' fixtures (signed-in users per role) serve the portal's tests too."""

from stemline.web.tests.conftest import as_role, person  # noqa: F401
