import ast
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab.numpy_bn import (
    BatchNormState,
    ToyMLP,
    batchnorm_backward,
    batchnorm_forward_inference,
    batchnorm_forward_train,
    binary_cross_entropy,
)
from lab.numpy_bn import bn as bn_module


def _inputs(b=8, c=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(2.0, 3.0, (b, c)), rng.normal(1.0, 0.5, c), rng.normal(0.0, 0.5, c), rng.normal(size=(b, c))


def test_no_python_loops_in_batchnorm():
    loops = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.AsyncFor)
    names = {"batchnorm_forward_train", "batchnorm_backward", "batchnorm_forward_inference", "_check"}
    tree = ast.parse(inspect.getsource(bn_module))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in names]
    assert len(functions) == len(names)
    found = [(f.name, type(n).__name__) for f in functions for n in ast.walk(f) if isinstance(n, loops)]
    assert found == []
    assert "torch" not in inspect.getsource(bn_module)


def test_numerical_gradient_check_float64():
    x, gamma, beta, r = _inputs()

    def loss(x_, g_, b_):
        y, _ = batchnorm_forward_train(x_, g_, b_, BatchNormState.create(x.shape[1]))
        return float(np.sum(y * r))

    _, cache = batchnorm_forward_train(x, gamma, beta, BatchNormState.create(x.shape[1]))
    dx, dgamma, dbeta = batchnorm_backward(r, cache)
    h = 1e-5
    for analytic, which in ((dx, 0), (dgamma, 1), (dbeta, 2)):
        args = [x, gamma, beta]
        numeric = np.zeros_like(args[which])
        for idx in np.ndindex(numeric.shape):
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[which][idx] += h
            minus[which][idx] -= h
            numeric[idx] = (loss(*plus) - loss(*minus)) / (2 * h)
        rel = np.max(np.abs(analytic - numeric) / np.maximum(1e-12, np.abs(analytic) + np.abs(numeric)))
        assert rel < 1e-7, (which, rel)


def test_matches_torch_forward_backward_and_running_stats():
    c, momentum, eps = 6, 0.1, 1e-5
    state = BatchNormState.create(c, momentum=momentum, eps=eps)
    ref = torch.nn.BatchNorm1d(c, momentum=momentum, eps=eps, dtype=torch.float64)
    for step in range(4):
        x, gamma, beta, dy = _inputs(b=16, c=c, seed=step)
        y, cache = batchnorm_forward_train(x, gamma, beta, state)
        dx, dgamma, dbeta = batchnorm_backward(dy, cache)
        xt = torch.tensor(x, requires_grad=True)
        gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
        yt = F.batch_norm(xt, None, None, gt, bt, training=True, eps=eps)
        yt.backward(torch.tensor(dy))
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(dgamma, gt.grad.numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(dbeta, bt.grad.numpy(), rtol=0, atol=1e-10)
        ref.train()(torch.tensor(x))
    np.testing.assert_allclose(state.running_mean, ref.running_mean.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(state.running_var, ref.running_var.numpy(), rtol=0, atol=1e-12)


def test_inference_uses_running_statistics():
    x, gamma, beta, _ = _inputs(b=32, c=4)
    state = BatchNormState.create(4, momentum=0.5)
    batchnorm_forward_train(x, gamma, beta, state)
    shifted = x * 4 + 10  # batch statistics far from the running ones
    y_inf = batchnorm_forward_inference(shifted, gamma, beta, state)
    y_train, _ = batchnorm_forward_train(shifted, gamma, beta, BatchNormState.create(4))
    assert not np.allclose(y_inf, y_train)
    closed_form = gamma * (shifted - state.running_mean) / np.sqrt(state.running_var + state.eps) + beta
    np.testing.assert_allclose(y_inf, closed_form, rtol=1e-12, atol=1e-12)
    before = state.running_mean.copy()
    batchnorm_forward_inference(shifted, gamma, beta, state)
    assert np.array_equal(state.running_mean, before)


def test_bad_shapes_raise_clear_errors():
    x, gamma, beta, _ = _inputs(c=5)
    state = BatchNormState.create(5)
    with pytest.raises(ValueError, match="gamma must have shape \\(5,\\)"):
        batchnorm_forward_train(x, gamma[:3], beta, state)
    with pytest.raises(ValueError, match="2-D"):
        batchnorm_forward_train(x[None], gamma, beta, state)
    with pytest.raises(ValueError, match="running_mean"):
        batchnorm_forward_inference(x, gamma, beta, BatchNormState.create(4))
    with pytest.raises(ValueError, match="at least 2"):
        batchnorm_forward_train(x[:1], gamma, beta, state)
    _, cache = batchnorm_forward_train(x, gamma, beta, state)
    with pytest.raises(ValueError, match="dy"):
        batchnorm_backward(np.zeros((3, 5)), cache)
    with pytest.raises(ValueError, match="momentum"):
        BatchNormState.create(5, momentum=2.0)


def _toy_batch(seed=0, n=9):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784)), np.array([1] + [0] * (n - 1), dtype=np.float64).reshape(-1, 1)


def test_toy_mlp_is_the_course_network_seeded_as_the_starter_code():
    model = ToyMLP.from_seed(14)
    np.random.seed(14)  # what the course's starter code does: seed 14, then randn in this order
    expected = {
        "W1": np.random.randn(784, 16),
        "W2": np.random.randn(16, 1),
        "gamma": np.random.randn(16),
        "beta": np.random.randn(16),
    }
    assert all(np.array_equal(model.params[k], v) for k, v in expected.items())


def test_toy_mlp_gradients_equal_torch_autograd_for_the_whole_network():
    x, y = _toy_batch()
    model = ToyMLP.from_seed(14)
    logits, cache = model.forward(x, train=True)
    grads = model.backward(logits, y, cache)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in ToyMLP.from_seed(14).params.items()}
    h = torch.tensor(x) @ t["W1"]
    z = F.batch_norm(h, None, None, t["gamma"], t["beta"], training=True, eps=1e-5)
    out = torch.sigmoid(z) @ t["W2"]
    loss = F.binary_cross_entropy_with_logits(out, torch.tensor(y), reduction="sum")
    loss.backward()
    assert binary_cross_entropy(logits, y) == pytest.approx(loss.item(), rel=1e-12)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, t[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_toy_mlp_learns_and_inference_uses_the_running_statistics():
    x, y = _toy_batch()
    model = ToyMLP.from_seed(14, momentum=0.1)
    losses = [model.train_step(x, y, lr=0.1) for _ in range(50)]
    assert losses[-1] < 0.2 * losses[0]
    h = x @ model.params["W1"]
    # running = 0.9 * running + 0.1 * batch statistic, 50 times: now close to the batch's own statistics
    np.testing.assert_allclose(model.bn.running_mean, h.mean(0), rtol=0.05)
    one = x[:1]
    by_running = model.evaluate(one, y[:1])
    model.bn.running_mean = model.bn.running_mean + 1.0  # inference must follow the running statistics
    assert model.evaluate(one, y[:1]) != pytest.approx(by_running)
