"""Every script in examples/ runs, in fast mode (NETGRAPH_EXAMPLE_FAST=1, or ``--fast``:
small data, few rounds), and prints what it shows.

The scripts run in this process (runpy, as ``__main__``) so that torch and netgraph are
imported once for all of them; each runs in a temporary directory, so the files it writes
land there. An example that needs an optional package (scikit-learn, onnxruntime) is
skipped when the package is missing.
"""
from __future__ import annotations

import importlib.util
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))
NEEDS = {"digits_classifier.py": ["sklearn"], "digits_images.py": ["sklearn"],
         "save_load_onnx.py": ["onnx", "onnxruntime"]}


def test_the_examples_are_there():
    expected = {"seed_graph.py", "stateful_training.py", "seed_trainer.py", "seed_zero_weight.py",
                "digits_classifier.py", "sequence_classifier.py", "custom_loop.py",
                "multi_loss.py", "save_load_onnx.py", "distributed_training.py", "gan.py",
                "digits_images.py", "text_classifier.py"}
    assert expected <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]):
    for module in NEEDS.get(script, []):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{script} needs {module}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETGRAPH_EXAMPLE_FAST", "1")
    monkeypatch.setenv("STATEFUL_FAST", "1")      # examples/stateful_training.py's own switch
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr("sys.argv", [str(EXAMPLES / script), "--fast"])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"examples/{script} printed nothing"


WL_SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.wl"))


def test_the_wl_examples_are_there():
    assert "stateful_trainer.wl" in WL_SCRIPTS


@pytest.mark.parametrize("script", WL_SCRIPTS)
def test_wl_example_runs_under_the_cli(script: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]):
    """``python -m netgraph.wl examples/<script>`` (its main(), in this process)."""
    from netgraph.wl.__main__ import main
    monkeypatch.chdir(tmp_path)
    assert main([str(EXAMPLES / script)]) == 0
    out = capsys.readouterr()
    assert out.out.strip() and not out.err, out.err
    if script == "stateful_trainer.wl":
        assert "the loss fell: True" in out.out
