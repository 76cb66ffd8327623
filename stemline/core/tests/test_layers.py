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
# with its schemas and errors: a framework below every app, which imports only core.
FRAMEWORK = {"stemline.api.registry", "stemline.api.schemas", "stemline.api.errors"}

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
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
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
