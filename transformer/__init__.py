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

from transformer.model import *  # noqa: F403 (the re-export is the point)
from transformer.model import __all__  # noqa: F401
