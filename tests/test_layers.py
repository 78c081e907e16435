"""The packages of lab/ are layers (lab/__init__.py lists them): a module imports its own layer and the layers
below it, never one above, so no import arrow runs back up and no two packages import each other."""

import ast
from pathlib import Path

import lab

# bottom to top, as lab/__init__.py lists them; a root module (schedules.py, blocks.py) is a layer of its own
LAYERS = (
    "utils",
    "schedules",
    "numpy_bn",
    "models",
    "callbacks",
    "data",
    "blocks",
    "viz",
    "inference",
    "engine",
    "questions",
    "report",
)
PACKAGE = Path(lab.__file__).resolve().parent


def imported_layers(path: Path):
    """(the layer of every lab module ``path`` imports, its line), lazy imports inside functions included."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"lab.{a.name}" for a in node.names] if node.module == "lab" else [node.module]
        else:
            continue
        yield from ((name.split(".")[1], node.lineno) for name in names if name.startswith("lab."))


def test_every_module_imports_only_its_own_layer_and_those_below():
    found, upward = set(), []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.as_posix() in ("__init__.py", "__main__.py"):  # the package itself and `python -m lab`
            continue
        layer = relative.parts[0].removesuffix(".py")
        found.add(layer)
        for target, line in imported_layers(path):
            if target not in LAYERS or layer not in LAYERS or LAYERS.index(target) > LAYERS.index(layer):
                upward.append(f"{relative}:{line} ({layer}) imports lab.{target}")
    assert upward == []
    assert found == set(LAYERS)  # every module in a layer, every layer still there
