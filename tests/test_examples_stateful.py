"""The flagship example examples/stateful_training.py, in its fast mode."""
import importlib.util
import pathlib

import pytest
import torch

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "stateful_training.py"


@pytest.fixture
def one_thread():
    """Small LSTMs run fastest on one thread, the more so on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_stateful_training_example_fast_mode(tmp_path, capsys, one_thread):
    spec = importlib.util.spec_from_file_location("stateful_training", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    png = tmp_path / "plot.png"
    results = example.main(fast=True, path=str(png))
    out = capsys.readouterr().out
    assert "stateful: final round loss" in out and "stateless: final round loss" in out
    assert str(png) in out and png.stat().st_size > 10_000
    stateful, stateless = results["stateful"]["by_position"], results["stateless"]["by_position"]
    # Only the carried state knows the step before the window.
    assert stateless[0] > 0.4 and stateful[0] < 0.1 * stateless[0]
    assert stateless[1:].mean() < 0.2 and stateful[1:].mean() < 0.2
