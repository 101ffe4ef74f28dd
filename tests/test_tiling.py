import numpy as np
import pytest
import torch

from golden_py.extract import int_conv
from golden_py.tiling import compute_tiles, tile_layer


@pytest.mark.parametrize("rows,cols", [(8, 8), (16, 16), (8, 16)])
@pytest.mark.parametrize("ic,oc,side", [(8, 8, 4), (64, 64, 8), (20, 13, 5), (3, 30, 6)])
def test_tiled_output_equals_int_conv(rows, cols, ic, oc, side):
    g = torch.Generator().manual_seed(ic * 1000 + oc + rows)
    a = torch.randint(0, 16, (ic, side, side), generator=g)
    w = torch.randint(-7, 8, (oc, ic, 3, 3), generator=g)
    t = tile_layer(a, w, rows, cols)
    assert np.array_equal(t.out, int_conv(a[None], w)[0].reshape(oc, -1))
    # independent reference for the ReLU'd output: PyTorch's own conv and ReLU layers (float64 is exact here)
    conv = torch.nn.Conv2d(ic, oc, 3, padding=1, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(w.double())
        ref = torch.nn.ReLU()(conv(a[None].double()))[0].reshape(oc, -1)
    assert np.array_equal(t.out_relu, ref.long())
    assert t.psum.shape == (-(-ic // rows), -(-oc // cols), cols, (side + 2) ** 2, 9)


def test_psum_definition_against_loops():
    """Each psum is the dot product of one weight column with one padded activation vector."""
    g = torch.Generator().manual_seed(7)
    a = torch.randint(0, 16, (16, 3, 3), generator=g)
    w = torch.randint(-7, 8, (8, 16, 3, 3), generator=g)
    t = tile_layer(a, w, 8, 8)
    ap = torch.nn.functional.pad(a, (1, 1, 1, 1)).reshape(16, -1)
    for it in range(2):
        for c in (0, 5):
            for nij in (0, 6, 12, 24):
                for kij in (0, 4, 8):
                    exp = sum(int(w[c, it * 8 + r, kij // 3, kij % 3]) * int(ap[it * 8 + r, nij]) for r in range(8))
                    assert int(t.psum[it, 0, c, nij, kij]) == exp


def test_padded_nij_mapping():
    t = tile_layer(torch.zeros(8, 4, 4, dtype=torch.long), torch.zeros(8, 8, 3, 3, dtype=torch.long))
    assert t.padded_nij(0, 0) == 0 and t.padded_nij(0, 8) == 14 and t.padded_nij(15, 8) == 35


def test_compute_tiles_rejects_misfit():
    with pytest.raises(ValueError, match="do not fit"):
        compute_tiles(torch.zeros(1, 8, 36, dtype=torch.long), torch.zeros(1, 1, 8, 8, 9, dtype=torch.long), 5, 5)
