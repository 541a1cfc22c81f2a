"""Fixtures shared by the training tests."""
import pytest

from netgraph.train import compiled
from netgraph.train import trainer as trainer_module
from netgraph.train.whole_step import WholeStep


@pytest.fixture
def steps(monkeypatch):
    """The compiled steps made, by kind; and the compiled step kept even where it measures
    slower than the eager one (these steps are too small to time)."""
    made = {"whole": 0, "forward": 0}
    make = trainer_module.compiled_step

    def spy(trainer):
        step = make(trainer)
        made["whole" if isinstance(step, WholeStep) else "forward"] += 1
        return step
    monkeypatch.setattr(trainer_module, "compiled_step", spy)
    monkeypatch.setattr(compiled, "MIN_GAIN", -1e9)    # Automatic keeps it
    monkeypatch.setattr(compiled.StepCompiler, "_compiled_timed",
                        lambda self, feeds: self._kept(self.compiled(feeds)))
    return made
