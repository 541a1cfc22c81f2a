"""Measurements: WL's built-in classification and regression measurements, NetPort and
function measurements, computed from per-batch sufficient statistics on tensors.

:mod:`.spec` parses measurement specs (names, synonyms, ``(name, k)``, the dict form with
its suboptions); :mod:`.stats` accumulates counts on tensors (a confusion matrix, top-k
hits, entropy, ROC counts, residual sums); :mod:`.builtin` holds each measurement's formula
on those counts; :mod:`.meter` measures a run batch by batch; :mod:`.plots` draws them.
"""
