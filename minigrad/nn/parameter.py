"""`Parameter`: a leaf tensor that a Module registers as trainable."""

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A tensor that requires grad and is found by ``Module.parameters()``.

    ``name`` is the dotted path a Module gives it (e.g. ``encoder.layers.0.ffn.w_1.weight``),
    used by visualisation to label graph leaves.
    """

    __slots__ = ("name",)

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data.data if isinstance(data, Tensor) else data)
        self.name = None
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
