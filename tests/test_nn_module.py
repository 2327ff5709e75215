"""nn.Module: registration, traversal, modes, state dicts, module-path recording, repr."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import functional as F


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(0.5)
        self.register_buffer("scale", minigrad.ones(dim))

    def forward(self, x):
        return self.drop(self.norm(self.proj(x).relu() * self.scale))


class Net(nn.Module):
    def __init__(self, dim=4, depth=2):
        super().__init__()
        self.embed = nn.Embedding(10, dim, padding_idx=0)
        self.layers = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.head = nn.Linear(dim, 3, bias=False)

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x)
        return self.head(x).sum()


def test_named_parameters_use_dotted_paths_in_registration_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "embed.weight",
        "layers.0.proj.weight", "layers.0.proj.bias", "layers.0.norm.weight", "layers.0.norm.bias",
        "layers.1.proj.weight", "layers.1.proj.bias", "layers.1.norm.weight", "layers.1.norm.bias",
        "head.weight",
    ]  # fmt: skip


def test_shared_parameters_are_listed_once_and_counted_once():
    net = Net()
    net.layers[1].proj.weight = net.layers[0].proj.weight  # tied weights
    assert len(net.parameters()) == 9
    assert net.num_parameters() == 40 + 2 * (16 + 4 + 4 + 4) + 12 - 16


def test_num_parameters_counts_scalars():
    assert nn.Linear(5, 3).num_parameters() == 18
    net = Net()
    assert net.num_parameters() == 40 + 2 * (16 + 4 + 4 + 4) + 12
    net.embed.weight.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 2 * (16 + 4 + 4 + 4) + 12


def test_children_modules_and_buffers():
    net = Net()
    assert [type(c).__name__ for c in net.children()] == ["Embedding", "ModuleList", "Linear"]
    paths = [p for p, _ in net.named_modules()]
    assert paths[:4] == ["", "embed", "layers", "layers.0"]
    assert "layers.1.drop" in paths
    assert [n for n, _ in net.named_buffers()] == ["layers.0.scale", "layers.1.scale"]


def test_reassigning_a_buffer_keeps_it_a_buffer_and_none_params_stay_registered():
    block = Block(3)
    block.scale = minigrad.full((3,), 2.0)
    assert "scale" in block.state_dict()
    ln = nn.LayerNorm(3, bias=False)
    assert ln.bias is None and [n for n, _ in ln.named_parameters()] == ["weight"]
    ln.weight = None
    assert ln.parameters() == []


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    m = nn.Module()
    m.register_buffer("table", minigrad.ones(2), persistent=False)
    assert m.state_dict() == {} and len(m.buffers()) == 1


def test_assignment_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2, np.float32))

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_train_eval_switch_the_whole_tree_and_dropout():
    net = Net()
    assert net.eval() is net and not any(m.training for m in net.modules())
    x = minigrad.ones(1000)
    np.testing.assert_array_equal(net.layers[0].drop(x).numpy(), x.numpy())
    net.train()
    assert all(m.training for m in net.modules())
    kept = net.layers[0].drop(x).numpy()
    assert set(np.unique(kept)) == {0.0, 2.0}


def test_zero_grad_and_requires_grad():
    net = Net()
    net(np.array([1, 2])).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_before_parents():
    order = []
    Net(depth=1).apply(lambda m: order.append(type(m).__name__))
    assert order == ["Embedding", "Linear", "LayerNorm", "Dropout", "Block", "ModuleList",
                     "Linear", "Net"]  # fmt: skip


# ---- state dicts ------------------------------------------------------------------------------
def test_state_dict_round_trip_copies_values():
    a, b = Net(), Net()
    state = a.state_dict()
    assert list(state) == [  # PyTorch's order: a module's own entries, then its children's
        "embed.weight", "layers.0.scale", "layers.0.proj.weight", "layers.0.proj.bias",
        "layers.0.norm.weight", "layers.0.norm.bias", "layers.1.scale", "layers.1.proj.weight",
        "layers.1.proj.bias", "layers.1.norm.weight", "layers.1.norm.bias", "head.weight",
    ]  # fmt: skip
    result = b.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    state["head.weight"][...] = 7  # the loaded model does not share memory with the dict
    assert not (b.head.weight.numpy() == 7).any()
    a.head.weight.data += 1  # and the dict does not share memory with the model
    assert not (state["head.weight"] == a.head.weight.numpy()).any()


def test_load_state_dict_casts_to_the_parameter_dtype_and_accepts_tensors():
    m = nn.Linear(2, 2)
    m.load_state_dict({"weight": minigrad.ones(2, 2, dtype=np.float64), "bias": [1, 2]})
    assert m.weight.dtype == np.float32 and m.bias.dtype == np.float32
    np.testing.assert_array_equal(m.bias.numpy(), [1, 2])


def test_strict_load_lists_missing_unexpected_and_mis_shaped_keys_together():
    net = Net()
    state = net.state_dict()
    del state["head.weight"]
    state["layers.0.extra"] = np.zeros(3)
    state["embed.weight"] = np.zeros((11, 4))
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "Net" in message
    assert "Missing key(s) in state_dict: head.weight" in message
    assert "Unexpected key(s) in state_dict: layers.0.extra" in message
    assert "size mismatch for embed.weight" in message and "(11, 4)" in message


def test_non_strict_load_reports_but_still_checks_shapes():
    net = Net()
    state = {"head.weight": np.zeros((3, 4)), "other": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert "embed.weight" in result.missing_keys and result.unexpected_keys == ["other"]
    assert not net.head.weight.numpy().any()
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):
        net.load_state_dict({"head.weight": np.zeros((4, 3))}, strict=False)


def test_load_state_dict_rejects_non_numeric_values():
    with pytest.raises(TypeError, match="'bias'"):
        nn.Linear(1, 1).load_state_dict({"weight": [[1.0]], "bias": ["x"]})


# ---- graph recording --------------------------------------------------------------------------
def _graph_modules(root):
    """{op name: set of module paths} over the recorded graph behind ``root``."""
    seen, stack, found = set(), [root], {}
    while stack:
        t = stack.pop()
        if t._ctx is None or id(t) in seen:
            continue
        seen.add(id(t))
        found.setdefault(type(t._ctx).__name__, set()).add(t._ctx.scope)
        stack.extend(t._ctx.parents)
    return found


def test_ops_inside_nested_modules_record_their_dotted_path():
    net = Net()
    ops = _graph_modules(net(np.array([[1, 2, 0]])))
    assert ops["Embedding"] == {"embed"}
    assert ops["LayerNorm"] == {"layers.0.norm", "layers.1.norm"}
    assert ops["Dropout"] == {"layers.0.drop", "layers.1.drop"}
    assert ops["Relu"] == {"layers.0", "layers.1"}  # an op in Block.forward itself
    assert {"layers.0.proj", "layers.1.proj", "head"} <= ops["Linear"]
    assert ops["Sum"] == {"Net"}  # the outermost module is named by its class


def test_calling_a_submodule_directly_keeps_its_path_in_the_model():
    net = Net()
    net(np.array([1]))
    out = net.layers[1](minigrad.ones(1, 4))
    assert _graph_modules(out)["LayerNorm"] == {"layers.1.norm"}


def test_a_standalone_module_is_named_by_its_own_call():
    block = Block(2)
    assert _graph_modules(block(minigrad.ones(1, 2)))["Linear"] == {"proj"}
    assert block.proj.weight.name == "proj.weight"
    outer = nn.Sequential(block)  # a bigger model renames it on its first call
    assert _graph_modules(outer(minigrad.ones(1, 2)))["Linear"] == {"0.proj"}
    assert block.proj.weight.name == "0.proj.weight"


def test_parameter_names_are_set_on_a_root_call():
    net = Net()
    assert net.head.weight.name is None
    net(np.array([3]))
    for name, p in net.named_parameters():
        assert p.name == name


def test_functional_ops_outside_modules_record_no_module():
    x = minigrad.ones(2, requires_grad=True)
    assert F.relu(x)._ctx.scope is None


# ---- repr -------------------------------------------------------------------------------------
def test_repr_prints_the_tree_like_pytorch():
    model = nn.Sequential(
        nn.Linear(2, 8),
        nn.GELU(),
        nn.ModuleList([nn.LayerNorm(8) for _ in range(3)] + [nn.Dropout(0.1)]),
        nn.Embedding(5, 8, padding_idx=0),
        nn.ReLU(),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=8, bias=True)\n"
        "  (1): GELU(approximate='none')\n"
        "  (2): ModuleList(\n"
        "    (0-2): 3 x LayerNorm((8,), eps=1e-05, elementwise_affine=True)\n"
        "    (3): Dropout(p=0.1)\n"
        "  )\n"
        "  (3): Embedding(5, 8, padding_idx=0)\n"
        "  (4): ReLU()\n"
        ")"
    )


def test_repr_with_settings_and_children_puts_settings_first():
    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1, bias=False)

        def extra_repr(self):
            return "heads=2"

    assert repr(Layer()) == (
        "Layer(\n  heads=2\n  (fc): Linear(in_features=1, out_features=1, bias=False)\n)"
    )


# ---- containers -------------------------------------------------------------------------------
def test_sequential_runs_in_order_indexes_and_slices():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = minigrad.randn(5, 3)
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_allclose(seq(x).numpy(), expected.numpy())
    assert len(seq) == 3 and seq[-1] is seq[2]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(1, 1), act=nn.ReLU()))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]


def test_module_list_and_dict_register_their_modules():
    layers = nn.ModuleList([nn.Linear(1, 1)]).extend([nn.Linear(1, 1)]).append(nn.Linear(1, 1))
    assert len(layers) == 3 and len(layers.parameters()) == 6
    assert list(layers[1:]._modules) == ["0", "1"]
    layers[0] = nn.ReLU()
    assert len(layers.parameters()) == 4
    heads = nn.ModuleDict({"a": nn.Linear(1, 2)})
    heads["b"] = nn.Linear(2, 1)
    assert "b" in heads and list(heads) == ["a", "b"] and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    with pytest.raises(NotImplementedError, match="forward"):
        heads(1)


def test_add_module_rejects_non_modules():
    with pytest.raises(TypeError, match="expected a Module"):
        nn.Sequential(lambda x: x)
