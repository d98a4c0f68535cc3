"""The package layering: every ``tfless`` import points down the data's path.

Order (a package may import those listed before it, never one after it):
building blocks (``layers``, ``losses``, ``augment``, ``backbones``) -> ``data`` ->
``methods`` -> ``configs`` / ``train`` -> ``evaluation`` -> ``export_format`` ->
``export`` -> ``zoo`` / ``serving`` -> ``cli``. Function-local imports count too.
"""

import ast
import pathlib

import tfless

PACKAGE = pathlib.Path(tfless.__file__).parent

# package -> the tfless packages it may import.
_BLOCKS = {"layers", "losses"}
ALLOWED = {
    "layers": set(),
    "losses": set(),
    "augment": {"layers"},
    "backbones": {"layers"},
    "data": {"augment"},
    "methods": _BLOCKS | {"augment", "backbones", "data"},
    "configs": set(),
    "train": _BLOCKS | {"augment", "backbones", "data", "methods", "evaluation"},
    "evaluation": _BLOCKS | {"data"},
    "export_format": set(),
    "export": {"export_format"},
    "zoo": {"configs", "data", "evaluation", "export", "export_format", "train", "methods"},
    "serving": {"export_format"},
}


def _imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    parts = (n.split(".") for n in names)
    return {p[1] for p in parts if p[0] == "tfless" and len(p) > 1}


def _package_of(path: pathlib.Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0][:-3] if rel[0].endswith(".py") else rel[0]


def test_no_import_points_back_up_the_data_path():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        package = _package_of(path)
        if package in ("__init__", "cli"):
            continue
        allowed = ALLOWED[package] | {package}
        for target in sorted(_imports(path) - allowed):
            wrong.append(f"{path.relative_to(PACKAGE)} imports tfless.{target}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_every_package_has_a_place_in_the_layering():
    packages = {_package_of(p) for p in PACKAGE.rglob("*.py")} - {"__init__", "cli"}
    assert packages <= set(ALLOWED), sorted(packages - set(ALLOWED))
