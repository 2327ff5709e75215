"""Optimizer state dicts: PyTorch's format, copies, errors, and bit-identical resumed training
through a checkpoint file (model + optimizer + scheduler)."""

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.nn import functional as F
from minigrad.nn.utils import clip_grad_norm_
from minigrad.optim.lr_scheduler import WarmupCosineLR

X = np.random.default_rng(0).standard_normal((32, 6)).astype(np.float32)
Y = (X[:, 0] > X[:, 1]).astype(np.int64)


def _model(seed):
    minigrad.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 2))


def _setup(model):
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.ndim == 2]
    rest = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.ndim == 2)]
    opt = optim.AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}], lr=0.05)
    return opt, WarmupCosineLR(opt, warmup_steps=3, total_steps=12, min_lr=1e-3)


def _train(model, opt, scheduler, steps):
    for _ in range(steps):
        loss = F.cross_entropy(model(minigrad.tensor(X)), Y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        scheduler.step()


def test_resumed_training_is_bit_identical(tmp_path):
    model = _model(seed=1)
    opt, scheduler = _setup(model)
    _train(model, opt, scheduler, 4)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": scheduler.state_dict(),
    }
    minigrad.save(checkpoint, tmp_path / "ckpt.npz")
    _train(model, opt, scheduler, 5)

    resumed = _model(seed=2)  # different initial weights, overwritten by the checkpoint
    resumed_opt, resumed_scheduler = _setup(resumed)
    loaded = minigrad.load(tmp_path / "ckpt.npz")
    resumed.load_state_dict(loaded["model"])
    resumed_opt.load_state_dict(loaded["optimizer"])
    resumed_scheduler.load_state_dict(loaded["scheduler"])
    _train(resumed, resumed_opt, resumed_scheduler, 5)

    for (name, p), q in zip(model.named_parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    assert resumed_scheduler.get_last_lr() == scheduler.get_last_lr()
    for a, b in zip(opt.state_dict()["state"].values(), resumed_opt.state_dict()["state"].values(),
                    strict=True):  # fmt: skip
        assert a["step"] == b["step"] == 9
        np.testing.assert_array_equal(a["exp_avg_sq"], b["exp_avg_sq"])


def test_state_dict_has_pytorchs_shape_with_plain_values():
    model = _model(seed=0)
    opt, _ = _setup(model)
    _train(model, opt, _setup(model)[1], 1)
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2, 3, 4, 5]]
    assert state["param_groups"][1]["weight_decay"] == 0.0
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(state["state"]) == [0, 1, 2, 3, 4, 5]
    entry = state["state"][0]
    assert entry["step"] == 1 and isinstance(entry["step"], int)
    assert isinstance(entry["exp_avg"], np.ndarray) and entry["exp_avg"].shape == (16, 6)


def test_state_dict_is_a_snapshot_and_loading_copies():
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = minigrad.ones(3)
    opt.step()
    snapshot = opt.state_dict()
    opt.step()
    np.testing.assert_array_equal(snapshot["state"][0]["momentum_buffer"], np.ones(3))
    other = optim.SGD([nn.Parameter(np.ones(3, np.float32))], lr=0.5, momentum=0.1)
    snapshot["state"][0]["momentum_buffer"] = np.full(3, 2.0)  # float64: cast on load
    other.load_state_dict(snapshot)
    assert other.param_groups[0]["lr"] == 0.1 and other.param_groups[0]["momentum"] == 0.9
    (buffer,) = [s["momentum_buffer"] for s in other.state.values()]
    assert buffer.dtype == np.float32
    snapshot["state"][0]["momentum_buffer"][...] = 5
    assert (buffer == 2).all()


def test_momentum_free_sgd_keeps_no_state():
    p = nn.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1)
    p.grad = minigrad.ones(2, dtype=np.float64)
    opt.step()
    assert opt.state_dict()["state"] == {}


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"state": {}}, "'state' and 'param_groups'"),
        ({"state": {}, "param_groups": []}, "0 parameter groups, the optimizer has 1"),
        ({"state": {}, "param_groups": [{"params": [0, 1, 2]}]}, "3 parameters"),
        ({"state": {5: {}}, "param_groups": [{"params": [0, 1]}]}, "unknown parameter 5"),
        ({"state": {0: {"exp_avg": np.ones(4)}}, "param_groups": [{"params": [0, 1]}]},
         "shape \\(4,\\)"),
    ],
)  # fmt: skip
def test_mismatched_state_dicts_are_clear_errors(state, message):
    opt = optim.Adam([nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
