"""The Transformer of "Attention Is All You Need" (Vaswani et al. 2017), built on minigrad, and
a toolkit to train toy translation models with it.

- `transformer.model`: the paper's components, one module each (attention, feed-forward,
  embeddings, positions, layers, the models, masks, the decoding cache)
- `transformer.data`: datasets, tokenizers and batching
- `transformer.training` (with `train_config` and `train_log`), `transformer.checkpoint`:
  the training loop, its settings, its log and its checkpoints
- `transformer.decoding`, `transformer.evaluation`, `transformer.metrics`: greedy and beam
  search, BLEU/chrF/exact match
- `transformer.cli` (``python -m transformer``) and `transformer.visualize`

The model's names are re-exported here: ``from transformer import Transformer, padding_mask``.
"""

import importlib


def __getattr__(name):
    """The model's names (and ``__all__``), imported from `transformer.model` on first use: so
    ``python -m transformer`` starts before minigrad is imported, and can report a bad MINIGRAD_*
    variable (read at minigrad's import) in one line instead of a traceback."""
    model = importlib.import_module("transformer.model")
    if name == "model":
        return model
    if name == "__all__" or name in model.__all__:
        return getattr(model, name)
    raise AttributeError(f"module 'transformer' has no attribute {name!r}")
