"""No app imports an app of a higher layer (the guide's "Direction of dependencies"): a lower
app that must let a higher one react offers a hook the higher one registers with."""

import ast
from pathlib import Path

import stemline

ROOT = Path(stemline.__file__).resolve().parent

# core < parties, catalog, tokens < inventory < sales, purchasing, money < channels
#   < api, web, vendor_portal, demo
LAYERS = {
    "core": 0,
    "parties": 1,
    "catalog": 1,
    "tokens": 1,
    "inventory": 2,
    "sales": 3,
    "purchasing": 3,
    "money": 3,
    "channels": 4,
    "api": 5,
    "web": 5,
    "vendor_portal": 5,
    "demo": 5,
}

# The method registry every app declares its API methods into ("the single source of truth"),
# with its schemas and errors, and the long lists' paging with the texts of an empty list (and
# the leniency those texts are matched with): a framework below every app, which imports only
# core and itself.
FRAMEWORK = {
    "stemline.api.registry",
    "stemline.api.schemas",
    "stemline.api.errors",
    "stemline.api.listing",
    "stemline.api.texts",
    "stemline.api.leniency",
}

# Upward imports that stand today outside the sales/channels work, each named so that no new
# one slips in beside them. Remove an entry when its import goes.
KNOWN = {
    ("core/services.py", "stemline.catalog.services"),  # bootstrap: standard box types
    ("core/services.py", "stemline.tokens.services"),  # bootstrap: the first Company token
    ("core/api.py", "stemline.parties.models"),
    ("core/api.py", "stemline.tokens.services"),  # login hands out a User token
    # The channels' own pages use the web application's access checks and form widgets.
    ("channels/views.py", "stemline.web.access"),
    ("channels/views.py", "stemline.web.forms"),
}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ["stemline", *path.relative_to(ROOT).parts[:-1]]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level and node.module:
            # `from .texts import EMPTY` in stemline/api/listing.py: stemline.api.texts.
            base = package[: len(package) - node.level + 1]
            yield node.lineno, ".".join([*base, node.module])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:  # `from stemline import channels`
                if node.module == "stemline":
                    yield node.lineno, f"stemline.{alias.name}"


def upward_imports() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if len(parts) < 2 or parts[0] not in LAYERS:
            continue
        # Tests and management commands put the whole application together; they may.
        if "tests" in parts or "management" in parts:
            continue
        app = parts[0]
        rel = "/".join(parts)
        for lineno, module in _imports(path):
            names = module.split(".")
            if names[0] != "stemline" or len(names) < 2 or names[1] not in LAYERS:
                continue
            other = names[1]
            if other == app or LAYERS[other] <= LAYERS[app]:
                continue
            if any(module == f or module.startswith(f + ".") for f in FRAMEWORK):
                continue
            if (rel, module) in KNOWN:
                continue
            found.append(f"{rel}:{lineno} imports {module} (layer {LAYERS[other]} > {app}'s)")
    return found


def test_no_app_imports_a_higher_layer():
    assert upward_imports() == []


def test_the_framework_imports_nothing_above_core():
    for module in FRAMEWORK:
        path = ROOT / (module.removeprefix("stemline.").replace(".", "/") + ".py")
        for _lineno, imported in _imports(path):
            names = imported.split(".")
            if names[0] == "stemline" and len(names) > 1:
                assert names[1] in ("core", "api"), f"{module} imports {imported}"
                if names[1] == "api":
                    assert imported in FRAMEWORK, f"{module} imports {imported}"


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    # The walk itself: a sales module importing the channels is caught.
    fake = tmp_path / "stemline"
    (fake / "sales").mkdir(parents=True)
    (fake / "sales" / "x.py").write_text("from stemline.channels import services\n")
    (fake / "sales" / "y.py").write_text("from stemline import channels\n")
    (fake / "sales" / "z.py").write_text("from stemline.inventory import services\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", fake)
    assert [f.split(" ")[0] for f in upward_imports()] == ["sales/x.py:1", "sales/y.py:1"]


def private_imports() -> list[str]:
    """Imports of another app's private names (`_shop_row`) or of another app's API module (an
    app's `api*.py` is its door, not a library): the guide allows only public names."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if len(parts) < 2 or parts[0] not in LAYERS or "tests" in parts or "management" in parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                continue
            names = node.module.split(".")
            if names[0] != "stemline" or len(names) < 2 or names[1] == parts[0]:
                continue
            rel = "/".join(parts)
            if len(names) > 2 and names[2].startswith("api") and names[1] != "api":
                found.append(f"{rel}:{node.lineno} imports {node.module}")
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"{rel}:{node.lineno} imports {node.module}.{alias.name}")
    return found


def test_no_app_imports_a_private_name_or_another_apps_api():
    assert private_imports() == []


def test_the_check_sees_a_private_or_api_import(tmp_path, monkeypatch):
    fake = tmp_path / "stemline"
    (fake / "channels").mkdir(parents=True)
    (fake / "channels" / "x.py").write_text(
        "def f():\n    from stemline.inventory.rows import _hidden\n"
    )
    (fake / "channels" / "y.py").write_text("from stemline.inventory.api import Day\n")
    (fake / "channels" / "z.py").write_text("from stemline.inventory.rows import shop_row\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", fake)
    assert private_imports() == [
        "channels/x.py:2 imports stemline.inventory.rows._hidden",
        "channels/y.py:1 imports stemline.inventory.api",
    ]
