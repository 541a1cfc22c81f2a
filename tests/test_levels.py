"""The level rule of DESIGN.md, read from the source with ast.

errors/symbols/shapes/ports < layers < graph < backend < runtime < measure < train < io/info <
__init__: at module level a module imports only from its own level or below. An import
inside a function is how the few upward calls are made (``Layer.__call__`` evaluating
through netgraph.runtime) and is not checked.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "netgraph"
LEVELS = {
    "errors": 0, "symbols": 0, "shapes": 0, "ports": 0,
    "layers": 1, "coders": 1, "graph": 2, "backend": 3, "runtime": 4, "measure": 4.5,
    "train": 5,
    "io": 6, "info": 6,
    "normal": 6, "plot": 6,  # not named in DESIGN.md: they present nets, as info does
    "wl": 7,
}
TOP = 8  # netgraph/__init__.py, and `netgraph` itself (e.g. its __version__)

# Module-level upward imports waiting for a fix. The last test fails once one of them is
# gone, so that this set only shrinks.
KNOWN: set[tuple[str, str]] = set()


def level(module: str) -> int:
    parts = module.split(".")
    return TOP if len(parts) == 1 or parts[1] == "__init__" else LEVELS[parts[1]]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    p = PACKAGE.parent.joinpath(*dotted.split("."))
    return p.is_dir() or p.with_suffix(".py").exists()


def _targets(node: ast.AST, package: str) -> list[str]:
    """The netgraph modules an import statement loads (absolute dotted names)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if not node.level:
        base = node.module or ""
    else:
        parts = package.split(".")
        base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module
                                                                 else []))
    return list(dict.fromkeys(f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base
                              for a in node.names))


def module_level_imports(source: str, module: str, is_package: bool = False
                         ) -> list[tuple[str, int]]:
    """(target, line) of every netgraph import outside function bodies."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return  # a lazy import: the pattern for calls up the levels
        found.extend((t, getattr(node, "lineno", 0)) for t in _targets(node, package)
                     if t == "netgraph" or t.startswith("netgraph."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def upward_imports() -> list[tuple[str, str, int]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for target, line in module_level_imports(path.read_text(), module,
                                                 path.name == "__init__.py"):
            if level(target) > level(module):
                out.append((module, target, line))
    return out


def test_every_module_has_a_level():
    modules = [module_name(p) for p in PACKAGE.rglob("*.py")]
    missing = sorted({m.split(".")[1] for m in modules if m.count(".")
                      and m.split(".")[1] not in LEVELS and m != "netgraph.__init__"})
    assert not missing, f"give these a level in LEVELS (and DESIGN.md): {missing}"


def test_the_parser_sees_upward_module_level_imports_only():
    source = ("from ..runtime.evaluate import evaluate\n"
              "from . import base\n"
              "import netgraph.train.options\n"
              "class C:\n    from ..backend import lower\n"
              "def f():\n    from ..train import nettrain\n")
    found = module_level_imports(source, "netgraph.layers.x")
    assert [t for t, _ in found] == ["netgraph.runtime.evaluate", "netgraph.layers.base",
                                     "netgraph.train.options", "netgraph.backend.lower"]


def test_module_level_imports_go_down_the_levels():
    bad = [f"{m} (line {line}) imports {t}: level {level(m)} < {level(t)}"
           for m, t, line in upward_imports() if (m, t) not in KNOWN]
    assert not bad, ("import these inside the function that needs them, or move the code "
                     "down a level:\n" + "\n".join(bad))


def test_known_exceptions_are_still_there():
    fixed = KNOWN - {(m, t) for m, t, _ in upward_imports()}
    assert not fixed, f"fixed at last: remove them from KNOWN: {sorted(fixed)}"
