"""accel_tb.cocotb_tests.network.CollectingChecker: the outputs a core reported, as the layer tensor the host carries on."""
import random
import types

import torch

from accel_tb.cocotb_tests.network import CollectingChecker
from accel_tb.env.checker import LayerChecker


def test_collected_outputs_form_the_layer_tensor(monkeypatch):
    monkeypatch.setattr(LayerChecker, "output", lambda self, *a, **k: None)   # the scoreboards: not under test
    job = types.SimpleNamespace(images=2, n_oc=2, cols=3, height=2, width=2)
    checker = object.__new__(CollectingChecker)        # the scoreboards are not under test here
    checker.job, checker._seen = job, {}
    rng = random.Random(4)
    ref = torch.full((2, 6, 4), -(1 << 40), dtype=torch.long)   # the per-word writes it replaced
    for n in range(2):
        for t in range(2):
            for p in range(4):
                if (n, t, p) == (1, 1, 3):
                    continue                                     # never reported: stays -2^40
                for _ in range(2 if (n, t, p) == (0, 1, 2) else 1):   # reported twice: the last one counts
                    v = [rng.randint(-50, 50) for _ in range(3)]
                    checker.output(n, t, p, v)
                    ref[n, t * 3:(t + 1) * 3, p] = torch.tensor(v)
    assert torch.equal(checker.got, ref)
    assert checker.got[1, 3:6, 3].eq(-(1 << 40)).all()
