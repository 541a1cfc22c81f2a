"""The documentation stays true to the code.

- ``docs/coverage.md`` equals what ``scripts/coverage.py`` generates from ``netgraph.__all__``
  (rerun ``python scripts/coverage.py`` after adding a public name).
- Code examples in the guide and the porting page run against the current netgraph:
  every ```` ```pycon ```` block is run as a doctest, and every ```` ```python ```` block
  whose first line is ``# runnable`` is executed. Blocks of one page share one namespace,
  in page order, like the cells of a notebook. A block whose first line is
  ``# runnable (requires NAME, ...)`` is skipped while one of the names is not in
  ``netgraph.__all__`` (a feature still being built); such blocks must not be needed by
  later blocks of the page.
- A "Not yet available" note that carries ``<!-- missing: NAME, ... -->`` fails the test
  once all those names work (exported public names, or NetTrain options and properties that
  NetTrain accepts and uses), so that the page is updated when the feature lands.

The mkdocs build itself (``make docs``) is not run here: it is slow and needs the docs extra.
"""
from __future__ import annotations

import difflib
import doctest
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# The pages whose examples are checked (pages written by others opt in by being listed).
PAGES = ["index.md", "guide/graphs.md", "guide/layers.md", "guide/training.md",
         "guide/trainer.md", "guide/stateful.md", "guide/files.md", "porting.md",
         "guide/extending.md", "guide/coders.md", "guide/coded-nets.md",
         "paste-mathematica.md"]

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)^(?P=indent)```",
                   re.M | re.S)
REQUIRES = re.compile(r"#\s*runnable\s*\(requires\s+(?P<names>[^)]*)\)\s*$")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _load_coverage():
    spec = importlib.util.spec_from_file_location("coverage_script",
                                                  ROOT / "scripts" / "coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_table_is_up_to_date():
    generated = _load_coverage().render()
    current = (DOCS / "coverage.md").read_text()
    if current != generated:
        diff = difflib.unified_diff(current.splitlines(), generated.splitlines(),
                                    "docs/coverage.md", "scripts/coverage.py", lineterm="", n=0)
        pytest.fail("docs/coverage.md is out of date with the code; regenerate it with "
                    "`.venv/bin/python scripts/coverage.py`:\n" + "\n".join(list(diff)[:40]))


def _blocks(text: str):
    """(kind, line number, code) for each checked block: kind is "pycon" or "python"."""
    for m in FENCE.finditer(text):
        lang, indent = m["lang"], m["indent"]
        body = "\n".join(line[len(indent):] for line in m["body"].splitlines())
        line = text.count("\n", 0, m.start()) + 2
        first = body.lstrip().splitlines()[0] if body.strip() else ""
        if lang == "pycon":
            yield "pycon", line, body, first
        elif lang == "python" and first.startswith("# runnable"):
            yield "python", line, body, first


def _missing(first: str) -> list[str]:
    import netgraph
    m = REQUIRES.match(first)
    if not m:
        return []
    names = [n.strip() for n in m["names"].split(",") if n.strip()]
    return [n for n in names if n not in netgraph.__all__]


def _run_pycon(page: str, line: int, code: str, globs: dict) -> None:
    test = doctest.DocTestParser().get_doctest(code, globs, f"{page}:{line}", page, line)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    globs.update(test.globs)  # DocTest ran on a copy; later blocks see its names
    assert not runner.failures, f"{page}, pycon block at line {line}:\n" + "".join(report)


@pytest.mark.parametrize("page", PAGES)
def test_examples_run(page: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    path = DOCS / page
    if not path.exists():
        pytest.skip(f"docs/{page} does not exist")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    globs: dict = {"__name__": "__docs__"}
    ran = 0
    for kind, line, code, first in _blocks(path.read_text()):
        if _missing(first):
            continue
        if kind == "pycon":
            _run_pycon(page, line, code, globs)
        else:
            try:
                exec(compile(code, f"docs/{page}:{line}", "exec"), globs)
            except Exception as e:  # noqa: BLE001 - report which block failed, then fail
                pytest.fail(f"docs/{page}, python block at line {line} raised "
                            f"{type(e).__name__}: {e}")
        ran += 1
    if page in ("guide/graphs.md", "porting.md"):
        assert ran > 0, f"docs/{page} has no runnable examples"


MISSING = re.compile(r"<!--\s*missing:\s*(?P<names>[^>]*?)\s*-->")


@pytest.mark.parametrize("page", PAGES)
def test_not_yet_available_is_still_true(page: str):
    """A "not yet available" note names what it waits for (``<!-- missing: A, B -->``: public
    names, NetTrain options or properties); once all of it works the note is stale."""
    available = _load_coverage().available
    path = DOCS / page
    if not path.exists():
        pytest.skip(f"docs/{page} does not exist")
    text = path.read_text()
    for m in MISSING.finditer(text):
        names = [n.strip() for n in m["names"].split(",") if n.strip()]
        line = text.count("\n", 0, m.start()) + 1
        assert not all(available(n) for n in names), (
            f"docs/{page}:{line} says {', '.join(names)} is not yet available, but netgraph "
            "now exports it: document it and remove the note")


def test_blocks_are_found():
    text = ("a\n```python\n# runnable\nx = 1\n```\n```python\ny = 2\n```\n"
            "```pycon\n>>> 1 + 1\n2\n```\n    ```python\n    # runnable (requires Nope)\n"
            "    z = 3\n    ```\n")
    found = [(k, line, first) for k, line, _, first in _blocks(text)]
    assert found == [("python", 3, "# runnable"), ("pycon", 10, ">>> 1 + 1"),
                     ("python", 14, "# runnable (requires Nope)")]
    assert _missing("# runnable (requires Nope, NetGraph)") == ["Nope"]
    assert _missing("# runnable") == []
