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


def test_weight_quant_matches_formula():
    torch.manual_seed(0)
    w = torch.randn(8, 8, 3, 3) * 0.1 + 0.02
    alpha = torch.tensor(2.5)
    wn = (w - w.mean()) / w.std(unbiased=True)
    x = torch.clamp(wn / alpha, -1, 1)
    expect = torch.sign(x) * torch.round(x.abs() * 7) / 7 * alpha
    assert torch.equal(quantize_weight(w, alpha, 4), expect)


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
