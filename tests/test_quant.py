import torch

from golden_py.quant import QuantConv2d, act_levels, quantize_act, quantize_weight, weight_levels


def test_levels():
    assert weight_levels(4) == 7 and act_levels(4) == 15 and act_levels(2) == 3


def test_weight_levels_are_k_over_7_times_alpha():
    torch.manual_seed(0)
    w = torch.randn(64, 32, 3, 3)
    alpha = torch.tensor(3.0)
    q = quantize_weight(w, alpha, 4)
    k = q / (alpha / 7)
    assert torch.allclose(k, k.round(), atol=1e-5)
    assert k.round().min() >= -7 and k.round().max() <= 7
    # both extremes are reached for gaussian weights with alpha 3 (clipping at 3 sigma)
    assert set(k.round().long().unique().tolist()) == set(range(-7, 8))


def test_weight_quant_against_pytorch_fake_quant():
    """Independent reference: PyTorch's own fake quantizer, symmetric, 15 integer levels -7..7, scale
    alpha/7, applied to the normalised weight (the course's formula, written another way)."""
    torch.manual_seed(0)
    w = torch.randn(8, 8, 3, 3) * 0.1 + 0.02
    alpha = torch.tensor(2.5)
    wn = (w - w.mean()) / w.std(unbiased=True)
    ref = torch.fake_quantize_per_tensor_affine(wn, scale=2.5 / 7, zero_point=0, quant_min=-7, quant_max=7)
    assert torch.allclose(quantize_weight(w, alpha, 4), ref, rtol=0, atol=1e-6)


def test_weight_quant_hand_computed():
    """Normalised weights (mean 0, std 1 by construction) at alpha 2: k/7 * 2 for k = round(7 * w/2)."""
    base = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.1, 0.5, 1.0, 3.0])
    w = (base - base.mean()) / base.std()
    q = quantize_weight(w, torch.tensor(2.0), 4)
    # by hand: mean 0.0125, sample std sqrt(20.509 / 7) = 1.7117; w_n / 2 * 7 = -6.16, -2.07, -1.05, -0.03,
    # 0.18, 1.00, 2.02, 6.11 -> rounded
    wn = [(-3.0 - 0.0125), (-1.0 - 0.0125), (-0.5 - 0.0125), -0.0125, 0.0875, 0.4875, 0.9875, 2.9875]
    std = 1.7117
    expect_k = [-6, -2, -1, 0, 0, 1, 2, 6]
    assert [round(7 * max(-1.0, min(1.0, x / std / 2))) for x in wn] == expect_k
    assert torch.allclose(q, torch.tensor(expect_k, dtype=torch.float) * 2 / 7, atol=1e-5)


def test_act_quant_against_pytorch_fake_quant():
    """Independent reference: PyTorch's fake quantizer with scale alpha/(2^b-1), clamped only from above."""
    torch.manual_seed(1)
    a = torch.randn(1000) * 4 + 3
    for bits, levels in ((4, 15), (2, 3)):
        alpha = torch.tensor(6.0)
        ref = torch.fake_quantize_per_tensor_affine(a, scale=6.0 / levels, zero_point=0, quant_min=-(1 << 20),
                                                    quant_max=levels)
        assert torch.allclose(quantize_act(a, alpha, bits), ref, rtol=0, atol=1e-5)


def test_act_levels_and_no_lower_clamp():
    a = torch.tensor([-1.0, 0.0, 0.26, 4.0, 7.9, 8.0, 20.0])
    alpha = torch.tensor(8.0)
    q = quantize_act(a, alpha, 4)
    ints = q / (alpha / 15)
    assert torch.allclose(ints, torch.tensor([-2.0, 0.0, 0.0, 8.0, 15.0, 15.0, 15.0]), atol=1e-5)


def test_weight_gradients_straight_through():
    w_n = torch.tensor([0.5, -2.0, 4.0, -4.0, 1.0])  # already normalised; alpha 3 clips +-4
    alpha = torch.tensor(3.0, requires_grad=True)
    w = w_n.clone().requires_grad_(True)
    from golden_py.quant import _WeightQuant
    out = _WeightQuant.apply(w, alpha, 7)
    g = torch.tensor([1.0, 2.0, 3.0, 5.0, 7.0])
    out.backward(g)
    # input gradient passes where |w/alpha| <= 1, zero where clipped
    assert torch.equal(w.grad, torch.tensor([1.0, 2.0, 0.0, 0.0, 7.0]))
    # alpha gradient: sum of grad * sign over the clipped elements = 3*1 + 5*(-1)
    assert alpha.grad.item() == -2.0


def test_act_gradients():
    a = torch.tensor([-1.0, 2.0, 9.0, 12.0], requires_grad=True)
    alpha = torch.tensor(8.0, requires_grad=True)
    q = quantize_act(a, alpha, 4)
    q.backward(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert torch.equal(a.grad, torch.tensor([1.0, 2.0, 0.0, 0.0]))
    assert alpha.grad.item() == 7.0


def test_quantconv_keeps_weight_q():
    torch.manual_seed(0)
    conv = QuantConv2d(8, 8)
    conv(torch.rand(1, 8, 4, 4))
    assert conv.weight_q is not None and conv.weight_q.shape == conv.weight.shape
    k = conv.weight_q / conv.w_scale
    assert torch.allclose(k, k.round(), atol=1e-5)
