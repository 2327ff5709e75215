"""The differentiable operations, one module per family; each op is a `Function` subclass."""
