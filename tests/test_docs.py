"""The Python snippets of the family pages under ``docs/`` stay in step with the library.

Running them all would take minutes of training, so each snippet is checked without running
its training: it compiles, every import in it resolves, and every call of an imported
function or class passes only keyword arguments that the callee accepts (the API drift a
renamed argument or a moved function would cause). The README's snippets, which are run,
are ``tests/test_readme.py``.
"""

import ast
import importlib
import inspect
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def _snippets() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL)):
            found.append((f"{page.name}[{i}]", code))
    return found


SNIPPETS = _snippets()


def _imported(tree: ast.AST) -> dict:
    """Names the snippet imports, bound to the imported objects."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                module = importlib.import_module(alias.name)
                names[alias.asname or alias.name.split(".")[0]] = module
        elif isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if value is None:  # a submodule imported by name
                    value = importlib.import_module(f"{node.module}.{alias.name}")
                names[alias.asname or alias.name] = value
    return names


def _callee(func: ast.expr, names: dict):
    """The object a call expression names, when it is an imported name or attribute of one."""
    if isinstance(func, ast.Name):
        return names.get(func.id)
    if isinstance(func, ast.Attribute):
        owner = _callee(func.value, names)
        return getattr(owner, func.attr, None) if inspect.ismodule(owner) else None
    return None


def _bad_keywords(call: ast.Call, callee) -> list[str]:
    try:
        signature = inspect.signature(callee)
    except (TypeError, ValueError):  # builtins without a signature
        return []
    params = signature.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return []
    accepted = {p.name for p in params}
    return [k.arg for k in call.keywords if k.arg is not None and k.arg not in accepted]


def test_the_docs_have_snippets():
    assert len(SNIPPETS) >= 5, [name for name, _ in SNIPPETS]


@pytest.mark.parametrize("name,code", SNIPPETS, ids=[name for name, _ in SNIPPETS])
def test_a_docs_snippet_imports_and_calls_what_exists(name, code):
    tree = ast.parse(compile(code, name, "exec", ast.PyCF_ONLY_AST), name)
    names = _imported(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and inspect.ismodule(_callee(node.value, names)):
            owner = _callee(node.value, names)
            if owner.__name__.startswith("tfless"):
                assert hasattr(owner, node.attr), f"{name}: {owner.__name__}.{node.attr}"
        if isinstance(node, ast.Call):
            callee = _callee(node.func, names)
            if callee is not None and getattr(callee, "__module__", "").startswith("tfless"):
                assert not _bad_keywords(node, callee), (name, ast.unparse(node.func))
