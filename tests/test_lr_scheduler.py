"""Learning-rate schedules against their formulas, state dicts, and PyTorch's calling order."""

import math

import numpy as np
import pytest

from minigrad import nn, optim
from minigrad.optim import lr_scheduler as S

BASE_LRS = (0.1, 0.03)


def _optimizer():
    groups = [{"params": [nn.Parameter(np.ones(1))], "lr": lr} for lr in BASE_LRS]
    return optim.SGD(groups, lr=1.0)


def _lrs(make, steps=40):
    """The lr of each group used at optimizer steps 1..steps, in PyTorch's calling order."""
    opt = _optimizer()
    scheduler = make(opt)
    seen = []
    for _ in range(steps):
        seen.append([g["lr"] for g in opt.param_groups])
        assert scheduler.get_last_lr() == seen[-1]
        opt.step()
        scheduler.step()
    return np.array(seen)


def _expected(formula, steps=40):
    """formula(base_lr, epoch) for epochs 0..steps-1 and each group."""
    return np.array([[formula(base, e) for base in BASE_LRS] for e in range(steps)])


def test_lambda_lr_with_one_function_or_one_per_group():
    got = _lrs(lambda o: S.LambdaLR(o, lambda e: 0.9**e))
    np.testing.assert_allclose(got, _expected(lambda base, e: base * 0.9**e), rtol=1e-15)
    got = _lrs(lambda o: S.LambdaLR(o, [lambda e: 1.0, lambda e: e + 1]))
    np.testing.assert_allclose(got[:, 0], 0.1)
    np.testing.assert_allclose(got[:, 1], 0.03 * np.arange(1, 41))


def test_step_lr():
    got = _lrs(lambda o: S.StepLR(o, step_size=7, gamma=0.5))
    np.testing.assert_allclose(got, _expected(lambda base, e: base * 0.5 ** (e // 7)), rtol=1e-15)


def test_cosine_annealing_lr():
    got = _lrs(lambda o: S.CosineAnnealingLR(o, T_max=25, eta_min=0.001))
    formula = lambda base, e: 0.001 + (base - 0.001) * (1 + math.cos(math.pi * e / 25)) / 2  # noqa: E731
    np.testing.assert_allclose(got, _expected(formula), rtol=1e-13)
    assert got[25, 0] == pytest.approx(0.001)


def test_warmup_cosine_lr():
    got = _lrs(lambda o: S.WarmupCosineLR(o, warmup_steps=5, total_steps=30, min_lr=0.002))

    def formula(base, epoch):
        k = epoch + 1
        if k <= 5:
            return base * k / 5
        progress = min(1.0, (k - 5) / 25)
        return 0.002 + (base - 0.002) * 0.5 * (1 + math.cos(math.pi * progress))

    np.testing.assert_allclose(got, _expected(formula), rtol=1e-13)
    np.testing.assert_allclose(got[:5, 0], [0.02, 0.04, 0.06, 0.08, 0.1])  # linear warmup
    assert got[5, 0] < got[4, 0] == pytest.approx(0.1)  # then decays from the peak
    np.testing.assert_allclose(got[29:, 0], 0.002)  # min_lr from total_steps on
    no_warmup = _lrs(lambda o: S.WarmupCosineLR(o, warmup_steps=0, total_steps=10), steps=10)
    assert no_warmup[0, 0] == pytest.approx(0.1 * (1 + math.cos(math.pi / 10)) / 2)


def test_noam_lr_is_the_transformer_papers_formula():
    got = _lrs(lambda o: S.NoamLR(o, d_model=512, warmup=10, factor=2.0))
    formula = lambda base, e: 2.0 * 512**-0.5 * min((e + 1) ** -0.5, (e + 1) * 10**-1.5)  # noqa: E731
    np.testing.assert_allclose(got, _expected(formula), rtol=1e-13)
    assert np.argmax(got[:, 0]) == 9  # the peak is at step k = warmup
    np.testing.assert_array_equal(got[:, 0], got[:, 1])  # the base lr is not used


SCHEDULES = [
    lambda o: S.StepLR(o, 3, gamma=0.7),
    lambda o: S.CosineAnnealingLR(o, 12),
    lambda o: S.WarmupCosineLR(o, 4, 20),
    lambda o: S.NoamLR(o, 64, 4),
    lambda o: S.LambdaLR(o, lambda e: 1 / (e + 1)),
]


@pytest.mark.parametrize("make", SCHEDULES)
def test_state_dict_resumes_the_same_schedule(make):
    expected = _lrs(make, steps=15)
    opt = _optimizer()
    scheduler = make(opt)
    for _ in range(6):
        opt.step()
        scheduler.step()
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in saved and "lr_lambdas" not in saved
    resumed_opt = _optimizer()
    resumed_opt.load_state_dict(saved_opt)
    resumed = make(resumed_opt)  # a fresh scheduler, then its state
    resumed.load_state_dict(saved)
    lrs = []
    for _ in range(9):
        lrs.append([g["lr"] for g in resumed_opt.param_groups])
        resumed_opt.step()
        resumed.step()
    np.testing.assert_array_equal(lrs, expected[6:])


def test_initial_lr_is_recorded_and_needed_to_resume():
    opt = _optimizer()
    S.StepLR(opt, 2)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS)
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_optimizer(), 2, last_epoch=5)
    resumed = S.StepLR(opt, 2, gamma=0.5, last_epoch=4)  # continues at epoch 5
    assert resumed.get_last_lr() == [0.1 * 0.25, 0.03 * 0.25]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda o: S.StepLR(o, 0), "step_size"),
        (lambda o: S.CosineAnnealingLR(o, 0), "T_max"),
        (lambda o: S.WarmupCosineLR(o, 10, 10), "warmup_steps < total_steps"),
        (lambda o: S.NoamLR(o, 512, 0), "warmup"),
        (lambda o: S.LambdaLR(o, [lambda e: 1.0]), "expected 2 lr_lambdas"),
        (lambda o: S.StepLR(object(), 2), "not an Optimizer"),
        (lambda o: S.StepLR(o, 2).load_state_dict({"bogus": 1}), "unknown keys"),
    ],
)
def test_bad_arguments_are_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(_optimizer())
