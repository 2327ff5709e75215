"""The everyday PyTorch API: values as PyTorch documents them (written here as expected values)
and gradients against finite differences in float64."""

import math
import os
import re

import numpy as np
import pytest
from helpers import leaf

import minigrad
import minigrad.nn as nn
from minigrad import gradcheck

X = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]


def test_reductions_match_pytorch_values():
    x = minigrad.tensor(X, dtype=minigrad.float64)
    np.testing.assert_allclose(x.std().item(), 2.2894686428659963, rtol=1e-12)
    np.testing.assert_allclose(x.std(1).numpy(), [2.516611478423583, 2.565800719723442], rtol=1e-12)
    np.testing.assert_allclose(x.norm().item(), math.sqrt(31.25))
    np.testing.assert_allclose(x.norm(1, dim=1).numpy(), [6.0, 5.5])
    assert x.norm(math.inf).item() == 4.0
    np.testing.assert_array_equal(x.cumsum(1).numpy(), [[1, -1, 2], [0.5, 4.5, 3.5]])
    assert x.prod().item() == 12.0 and x.prod(1).tolist() == [-6.0, -2.0]
    np.testing.assert_allclose(
        x.logsumexp(1).numpy(), [3.1328452337275756, 4.036269565124779], rtol=1e-12
    )
    assert minigrad.tensor([[-math.inf, -math.inf]]).logsumexp(1).item() == -math.inf
    assert x.all().item() and (x > 0).any(1).tolist() == [True, True]
    assert not (x > 0).all(1).tolist()[0]
    np.testing.assert_allclose(x.softmax(1).numpy().sum(1), 1)
    np.testing.assert_allclose(x.log_softmax(-1).exp().numpy(), x.softmax(-1).numpy())


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.std(),
        lambda x: x.std(dim=1, keepdim=True),
        lambda x: x.norm(),
        lambda x: x.norm(3, dim=0),
        lambda x: x.norm(math.inf, dim=1),
        lambda x: x.cumsum(0),
        lambda x: x.cumsum(-1),
        lambda x: x.prod(),
        lambda x: x.prod(1, keepdim=True),
        lambda x: x.logsumexp(1),
        lambda x: x.logsumexp((0, 1), keepdim=True),
        lambda x: x.softmax(0),
        lambda x: x.log_softmax(1),
        lambda x: x.flip(0, 1),
        lambda x: x.repeat(2, 1, 3),
        lambda x: x.repeat_interleave(2, dim=1),
        lambda x: x.repeat_interleave(minigrad.tensor([2, 0, 1, 3]), dim=1),
        lambda x: x.tril(),
        lambda x: x.triu(1),
        lambda x: x.T.cumsum(1),  # a non-contiguous input
        lambda x: x.T.prod(0),
    ],
)
def test_reduction_and_movement_gradients(f):
    assert gradcheck(f, [leaf(3, 4)])


def test_prod_gradient_with_zeros_is_exact():
    x = minigrad.tensor([2.0, 0.0, 3.0, 0.0], dtype=minigrad.float64, requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 0])
    y = minigrad.tensor([2.0, 0.0, 3.0], dtype=minigrad.float64, requires_grad=True)
    y.prod().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 6, 0])


def test_einsum_and_bmm():
    a, b, c = leaf(2, 3, 4), leaf(2, 4, 5), leaf(3)
    np.testing.assert_allclose(
        minigrad.einsum("bij,bjk->bik", a, b).numpy(), a.numpy() @ b.numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(minigrad.bmm(a, b).numpy(), a.numpy() @ b.numpy(), rtol=1e-12)
    assert minigrad.einsum("bij,j", a, leaf(4)).shape == (2, 3)  # implicit output: "bi"
    assert gradcheck(lambda a, b: minigrad.einsum("bij,bjk->bik", a, b), [a, b])
    assert gradcheck(lambda a, c: minigrad.einsum("bij,i->j", a, c), [a, c])  # b summed
    assert gradcheck(lambda a, b: minigrad.einsum("bij,bjk", a, b), [a, b])
    with pytest.raises(NotImplementedError, match="diagonal"):
        minigrad.einsum("ii->i", leaf(3, 3))
    with pytest.raises(ValueError, match="bmm"):
        minigrad.bmm(leaf(3, 4), leaf(4, 3))


def test_creation():
    np.testing.assert_array_equal(minigrad.eye(2, 3).numpy(), [[1, 0, 0], [0, 1, 0]])
    assert minigrad.eye(3).dtype == np.float32
    np.testing.assert_allclose(minigrad.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    minigrad.manual_seed(0)
    r = minigrad.randint(3, 7, (100,))
    assert r.dtype == np.int64 and r.shape == (100,) and 3 <= r.numpy().min() < r.numpy().max() < 7
    assert minigrad.randint(5, (2, 3)).shape == (2, 3)
    assert minigrad.empty(2, 3).shape == (2, 3)
    assert minigrad.zeros(2, dtype=minigrad.bool).dtype == np.bool_


def test_split_with_sizes():
    x = leaf(6, 2)
    parts = x.split([1, 3, 2])
    assert [p.shape for p in parts] == [(1, 2), (3, 2), (2, 2)]
    assert gradcheck(
        lambda x: minigrad.cat([p * (i + 1) for i, p in enumerate(x.split([1, 3, 2]))]), [x]
    )


def test_hook_handles_remove():
    x = leaf(3)
    seen = []
    handle = x.register_hook(lambda g: seen.append(1))
    (x * 2).sum().backward()
    handle.remove()
    handle.remove()
    (x * 2).sum().backward()
    assert seen == [1]


def test_grad_mode_switches():
    @minigrad.no_grad()
    def f(x):
        return x * 2

    @minigrad.no_grad
    def g(x):
        return x * 2

    x = leaf(2)
    assert not f(x).requires_grad and not g(x).requires_grad
    with minigrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert minigrad.is_grad_enabled()
    minigrad.set_grad_enabled(False)
    assert not minigrad.is_grad_enabled()
    minigrad.set_grad_enabled(True)
    assert (x * 2).requires_grad

    @minigrad.set_grad_enabled(False)
    def h(x):
        return x * 2

    assert minigrad.is_grad_enabled()  # decorating switched nothing
    assert not h(x).requires_grad and (x * 2).requires_grad


def test_modules_and_losses():
    x = minigrad.tensor([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh([-1, 0, 2]), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp([1, 0, -2])), rtol=1e-6)
    logits = minigrad.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    loss = nn.CrossEntropyLoss()(logits, minigrad.tensor([0, 2]))
    np.testing.assert_allclose(loss.item(), 0.8606453537940979, rtol=1e-6)  # torch's value
    mse = nn.MSELoss(reduction="sum")(x, minigrad.tensor([0.0, 0.0, 0.0]))
    assert mse.item() == 5.0


def test_clip_grad_value():
    w = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w * minigrad.tensor([-5.0, 0.5, 5.0])).sum().backward()
    nn.utils.clip_grad_value_([w], 1.0)
    assert w.grad.tolist() == [-1.0, 0.5, 1.0]


def test_reduce_lr_on_plateau_follows_pytorch():
    opt = minigrad.optim.SGD([leaf(1)], lr=1.0)
    sched = minigrad.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 3.9999, 3]:
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    # torch.optim.lr_scheduler.ReduceLROnPlateau gives this sequence for the same calls
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]


def test_floating_point_exceptions_give_ieee_values_and_numpys_warning():
    """docs/pytorch_differences.md: log(0) and 1/0 give -inf and inf as in PyTorch, and numpy's
    RuntimeWarning says where (PyTorch is silent)."""
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert minigrad.tensor([0.0]).log().item() == -math.inf
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert (minigrad.tensor([1.0]) / 0.0).item() == math.inf


def test_rounding_and_sign_match_pytorch_values():
    x = minigrad.tensor([-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.7, -3.2], dtype=minigrad.float64)
    assert x.round().tolist() == [-2.0, -2.0, -0.0, 0.0, 0.0, 2.0, 3.0, -3.0]  # halves to even
    assert x.floor().tolist() == [-3.0, -2.0, -1.0, 0.0, 0.0, 1.0, 2.0, -4.0]
    assert x.ceil().tolist() == [-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, 3.0, -3.0]
    assert x.trunc().tolist() == [-2.0, -1.0, -0.0, 0.0, 0.0, 1.0, 2.0, -3.0]
    assert x.sign().tolist() == [-1.0, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0, -1.0]
    assert minigrad.tensor([1.2345, -6.789]).round(2).allclose(minigrad.tensor([1.23, -6.79]))
    ints = minigrad.tensor([-3, 0, 2])
    assert ints.floor().dtype == np.int64 and ints.round().tolist() == [-3, 0, 2]
    assert ints.sign().tolist() == [-1, 0, 1] and ints.sign().dtype == np.int64
    for f in (minigrad.floor, minigrad.ceil, minigrad.round, minigrad.sign):
        assert f(x).tolist() == getattr(x, f.__name__)().tolist()


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "trunc", "round"])
def test_rounding_and_sign_have_zero_gradient(name):
    x = minigrad.tensor([[0.3, -1.7, 2.2], [-0.6, 1.1, 4.4]], dtype=minigrad.float64,
                        requires_grad=True)  # fmt: skip
    y = getattr(x, name)()
    (y * 3 + x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))  # only `+ x` contributes
    assert gradcheck(lambda t: getattr(t, name)() * t, [x])  # away from the jumps
    assert minigrad.gradgradcheck(lambda t: getattr(t, name)() * t * t, [x])


def test_t_matmul_and_neg_follow_pytorch():
    m = leaf(2, 3)
    assert m.t().shape == (3, 2) and m.t().t().tolist() == m.tolist()
    v = leaf(3)
    assert v.t() is v and minigrad.tensor(2.0).t().item() == 2.0
    with pytest.raises(ValueError, match="at most 2 dims.*transpose"):
        leaf(2, 3, 4).t()
    np.testing.assert_array_equal(m.matmul(m.t()).numpy(), (m @ m.t()).numpy())
    np.testing.assert_array_equal(minigrad.matmul(m, v).numpy(), m.numpy() @ v.numpy())
    assert m.neg().tolist() == (-m).tolist()
    assert gradcheck(lambda a: a.t().matmul(a).neg(), [m])


def test_unbind_and_roll_match_pytorch_values():
    x = minigrad.arange(6).reshape(2, 3)
    assert [t.tolist() for t in x.unbind()] == [[0, 1, 2], [3, 4, 5]]
    assert [t.tolist() for t in minigrad.unbind(x, 1)] == [[0, 3], [1, 4], [2, 5]]
    assert x.roll(1).tolist() == [[5, 0, 1], [2, 3, 4]]  # flattened, shape kept
    assert x.roll(1, 1).tolist() == [[2, 0, 1], [5, 3, 4]]
    assert x.roll(-1, -1).tolist() == [[1, 2, 0], [4, 5, 3]]
    assert minigrad.roll(x, (1, 2), (0, 1)).tolist() == [[4, 5, 3], [1, 2, 0]]
    assert x.roll(7, 1).tolist() == x.roll(1, 1).tolist()  # shifts wrap around
    with pytest.raises(ValueError, match="2 shifts for 1 dims"):
        x.roll((1, 2), 0)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.roll(1),
        lambda x: x.roll(-2, 1) * x,
        lambda x: x.roll((1, 1), (0, 1)),
        lambda x: x.T.roll(1, 0),  # a non-contiguous input
        lambda x: minigrad.stack(x.unbind(1)[::-1]),
        lambda x: x.unbind(0)[1] * x,  # a slice broadcast back against the whole
    ],
)
def test_unbind_and_roll_gradients(f):
    assert gradcheck(f, [leaf(3, 4)])
    assert minigrad.gradgradcheck(lambda x: f(x) * x.sum(), [leaf(3, 4)])


def test_one_hot_matches_pytorch():
    out = nn.functional.one_hot(minigrad.tensor([0, 2, 1]))
    assert out.dtype == np.int64 and out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert nn.functional.one_hot(minigrad.tensor([[1], [0]]), 4).shape == (2, 1, 4)
    assert nn.functional.one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)
    with pytest.raises(ValueError, match="id 3 is out of range for 3 classes"):
        nn.functional.one_hot(minigrad.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="id -1 is out of range"):
        nn.functional.one_hot(minigrad.tensor([-1, 0]), 2)


def test_isclose_and_allclose():
    a = minigrad.tensor([1.0, 2.0, float("nan")])
    b = minigrad.tensor([1.0 + 1e-7, 2.1, float("nan")])
    assert a.isclose(b).tolist() == [True, False, False]
    assert minigrad.isclose(a, b, equal_nan=True).tolist() == [True, False, True]
    assert not minigrad.allclose(a, b) and minigrad.allclose(a, b, atol=0.2, equal_nan=True)
    assert a[:2].allclose([1.0, 2.0]) is True


def test_the_api_listed_in_pytorch_differences_exists():
    """Every name in docs/pytorch_differences.md's "how much of the API" row is real."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "docs", "pytorch_differences.md"), encoding="utf-8") as doc:
        (row,) = [line for line in doc if line.startswith("| how much of the API |")]
    groups = [g for g in re.findall(r"`([^`]+)`", row) if "(" not in g]  # not the example call
    names = {name for group in groups for name in group.split()}
    not_names = {"minigrad.*", "nn.functional", "AttributeError"}
    owners = (minigrad.Tensor, minigrad, nn, nn.functional)
    missing = sorted(n for n in names - not_names if not any(hasattr(o, n) for o in owners))
    assert len(names) > 80 and not missing


def test_more_activations_and_shape_modules_match_pytorch():
    x = minigrad.tensor([-1.0, 0.0, 2.0], dtype=minigrad.float64)
    np.testing.assert_allclose(
        nn.SiLU()(x).numpy(), [-0.2689414213699951, 0.0, 1.7615941559557646], rtol=1e-12
    )
    assert nn.LeakyReLU(0.1)(x).tolist() == [-0.1, 0.0, 2.0]
    assert nn.functional.leaky_relu(x).tolist() == [-0.01, 0.0, 2.0]
    assert nn.Identity()(x) is x
    assert nn.Flatten()(minigrad.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.Flatten(0, 1)(minigrad.zeros(2, 3, 4)).shape == (6, 4)
    m = minigrad.tensor([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(nn.Softmax(dim=0)(m).numpy().sum(0), [1, 1], rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax()(m).numpy(), m.log_softmax(-1).numpy())
    leaf_x = minigrad.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    nn.functional.leaky_relu(leaf_x, 0.1).sum().backward()
    np.testing.assert_allclose(leaf_x.grad.numpy(), [0.1, 0.1, 1.0])  # slope at 0, as PyTorch


LOGITS = [[-3.0, 0.0, 2.0], [100.0, -100.0, 0.5]]
TARGETS = [[0.0, 1.0, 1.0], [0.0, 1.0, 0.3]]


def test_binary_cross_entropy_with_logits_matches_pytorch_without_overflow():
    x = minigrad.tensor(LOGITS, dtype=minigrad.float64, requires_grad=True)
    y = minigrad.tensor(TARGETS, dtype=minigrad.float64)
    loss = nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none")
    expected = [[0.048587351573742055, 0.6931471805599453, 0.1269280110429725],
                [100.0, 100.0, 0.8240769841801067]]  # fmt: skip
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)
    loss.sum().backward()
    expected_grad = [[0.04742587317756678, -0.5, -0.11920292202211769],
                     [1.0, -1.0, 0.3224593312018546]]  # fmt: skip
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-12)
    np.testing.assert_allclose(nn.BCEWithLogitsLoss()(x, y).item(), 33.615456587892794)
    np.testing.assert_allclose(
        nn.functional.binary_cross_entropy_with_logits(x, TARGETS, "sum").item(),
        201.69273952735676,
    )
    with pytest.raises(ValueError, match="same shape"):
        nn.functional.binary_cross_entropy_with_logits(x, [0.0, 1.0, 1.0])


def test_binary_cross_entropy_with_logits_gradients():
    rng = np.random.default_rng(0)
    y = minigrad.tensor(rng.random((3, 4)), requires_grad=True)
    assert y.dtype == np.float64
    f = nn.functional.binary_cross_entropy_with_logits
    assert gradcheck(lambda x, y: f(x, y, reduction="none"), [leaf(3, 4), y])
    y_t = minigrad.tensor(rng.random((4, 3)), requires_grad=True)
    assert gradcheck(lambda x, y: f(x.T, y.T), [leaf(4, 3), y_t])  # non-contiguous
    assert minigrad.gradgradcheck(lambda x, y: f(x, y) * x.sum(), [leaf(3, 4), y])


def test_nll_loss_matches_pytorch_and_cross_entropy():
    logits = minigrad.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 0.0], [2.0, -1.0, 0.0]],
                             dtype=minigrad.float64, requires_grad=True)  # fmt: skip
    target = minigrad.tensor([2, -100, 0])
    log_probs = logits.log_softmax(1)
    f = nn.functional.nll_loss
    np.testing.assert_allclose(f(log_probs, target).item(), 0.28872599200033294, rtol=1e-12)
    np.testing.assert_allclose(
        f(log_probs, target, reduction="none").numpy(),
        [0.4076059644443804, 0.0, 0.16984601955628548],
    )
    np.testing.assert_allclose(
        nn.NLLLoss(reduction="sum")(log_probs, target).item(), 0.5774519840006659
    )
    np.testing.assert_allclose(
        f(log_probs, target).item(), nn.functional.cross_entropy(logits, target).item()
    )
    assert f(log_probs, [-100, -100, -100]).item() == 0.0  # every target ignored: 0, as ours
    assert gradcheck(lambda x: f(x.log_softmax(1), [2, -100, 0]), [leaf(3, 3)])
    assert gradcheck(lambda x: f(x.T, [1, 0, 3], reduction="none"), [leaf(4, 3)])
    with pytest.raises(IndexError, match=r"targets must be integers in \[0, 3\)"):
        f(log_probs, [3, 0, 0])
    with pytest.raises(ValueError, match="expected log_probs"):
        f(log_probs, [0, 1])


def test_squeeze_takes_a_dim_or_a_tuple_as_pytorch():
    x = minigrad.zeros(1, 2, 1, 3)
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(0).shape == (2, 1, 3) and x.squeeze(-2).shape == (1, 2, 3)
    assert x.squeeze((0, 2)).shape == (2, 3)
    assert x.squeeze((0, 1)).shape == (2, 1, 3)  # dim 1 has size 2: it stays
    assert x.squeeze(1) is x and minigrad.tensor(3.0).squeeze().shape == ()
    with pytest.raises(IndexError, match="dim 4 is out of range"):
        x.squeeze(4)
    assert gradcheck(lambda t: t.squeeze((0, 2)) * 2, [leaf(1, 3, 1)])


def test_the_2_norm_has_gradient_0_at_the_origin_as_pytorch():
    x = minigrad.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=minigrad.float64, requires_grad=True)
    x.norm(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.6, 0.8], [0.0, 0.0]])
    z = minigrad.zeros(3, dtype=minigrad.float64, requires_grad=True)
    z.norm().backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]
    assert gradcheck(lambda t: t.T.norm(dim=0, keepdim=True) * t.T, [leaf(3, 2)])


A = [[1.0, 2.0, 2.0], [0.0, 0.0, 0.0], [3.0, -4.0, 0.0]]
B = [[2.0, 0.0, 1.0], [1.0, 1.0, 1.0], [-3.0, 4.0, 1.0]]


def test_normalize_and_cosine_similarity_match_pytorch():
    a = minigrad.tensor(A, dtype=minigrad.float64, requires_grad=True)
    b = minigrad.tensor(B, dtype=minigrad.float64)
    f = nn.functional
    np.testing.assert_allclose(
        f.normalize(a).numpy(), [[1 / 3, 2 / 3, 2 / 3], [0, 0, 0], [0.6, -0.8, 0]]
    )
    np.testing.assert_allclose(
        f.normalize(a, p=1, dim=0).numpy(), [[0.25, 1 / 3, 1], [0, 0, 0], [0.75, -2 / 3, 0]]
    )
    np.testing.assert_allclose(
        f.cosine_similarity(a, b).numpy(), [0.5962847939999438, 0.0, -0.9805806756909202]
    )
    np.testing.assert_allclose(
        f.cosine_similarity(a, b[0:1]).numpy(), [0.5962847939999438, 0.0, 0.5366563145999494]
    )
    f.normalize(a).sum().backward()  # the zero row: 1 / eps, as PyTorch
    np.testing.assert_allclose(
        a.grad.numpy(), [[4 / 27, -1 / 27, -1 / 27], [1e12, 1e12, 1e12], [0.224, 0.168, 0.2]]
    )
    assert gradcheck(lambda x: f.normalize(x, dim=0), [leaf(3, 4)])
    assert gradcheck(lambda x, y: f.cosine_similarity(x, y.T), [leaf(3, 4), leaf(4, 3)])
    assert minigrad.gradgradcheck(lambda x: f.normalize(x) * x, [leaf(3, 4)])
