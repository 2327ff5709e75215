"""Copy, reverse and sort: right answers, determinism, leak-free splits."""

import pytest

from transformer.data import load_dataset, task_dataset


@pytest.mark.parametrize("task", ["copy", "reverse", "sort"])
def test_targets_are_the_task_answer(task):
    s = task_dataset(task, num_train=300, num_valid=30, num_test=30, min_len=2, max_len=7)
    for src, tgt in s.train + s.test:
        assert 2 <= len(src) <= 7 and set(src) <= set("0123456789")
        expected = {"copy": src, "reverse": src[::-1], "sort": "".join(sorted(src))}[task]
        assert tgt == expected
    assert (s.name, s.src_tokenizer, s.tgt_tokenizer) == (task, "char", "char")


def test_sort_follows_the_order_of_symbols():
    s = task_dataset("sort", num_train=20, num_valid=2, num_test=2, symbols="zyx", max_len=4)
    for src, tgt in s.train:
        assert tgt == "".join(sorted(src, key="zyx".index))


def test_deterministic_disjoint_and_balanced():
    a = load_dataset("reverse", num_train=400, num_valid=40, num_test=40, seed=3)
    b = load_dataset("reverse", num_train=400, num_valid=40, num_test=40, seed=3)
    assert a.train == b.train and a.test == b.test
    train = {p.src for p in a.train}
    assert len(train) == 400 and not train & {p.src for p in a.test + a.valid}
    lengths = [len(p.src) for p in a.train]
    counts = [lengths.count(n) for n in range(3, 11)]  # 1-2 symbol strings are few
    assert max(counts) - min(counts) <= 1


@pytest.mark.parametrize(
    "options",
    [dict(task="shuffle"), dict(min_len=0), dict(min_len=5, max_len=3), dict(symbols="aa")],
)
def test_bad_options_are_clear_errors(options):
    with pytest.raises(ValueError):
        task_dataset(**options)
