"""The complete models: the encoder-decoder Transformer and a decoder-only language model.

"Attention Is All You Need" (Vaswani et al. 2017), §3 and Figure 1::

    memory = Encoder(Embed_src(src))                        # (batch, src_len, d_model)
    logits = Generator(Decoder(Embed_tgt(tgt_in), memory))  # (batch, tgt_len, tgt_vocab)

The encoder reads the whole source at once; the decoder predicts target token t+1 from the
target tokens up to t (teacher forcing in training: ``tgt_in`` is the target shifted right,
starting with <bos>) and from the memory. The generator is the "learned linear transformation"
to vocabulary scores (the softmax is left to the loss or the decoding). `TransformerLM` is the
decoder alone, without cross-attention: the GPT family's architecture.

Weights of all linear layers start Xavier-uniform (as in the reference implementations and
PyTorch's ``nn.Transformer``); embeddings start N(0, 1/d_model) (see `transformer.model.embedding`).
Both models are built from one `TransformerConfig` (the settings every layer reads) and record
their constructor arguments in ``.config``, so ``type(m)(**m.config)`` builds an identical
architecture (e.g. to load a checkpoint into).
"""

from dataclasses import asdict

from minigrad import Tensor, nn
from transformer.model.cache import KVCache
from transformer.model.config import TransformerConfig
from transformer.model.embedding import Embeddings
from transformer.model.layers import Decoder, Encoder
from transformer.model.positional import relative_positional


def _xavier_init_linears(model: nn.Module) -> None:
    """Xavier-uniform initialisation of every linear layer's weight."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)


def _generator(embed: Embeddings, vocab_size: int, config: TransformerConfig) -> nn.Linear:
    """The output layer d_model -> vocabulary, sharing the embedding matrix when
    ``config.tie_embeddings``."""
    generator = nn.Linear(config.d_model, vocab_size)
    nn.init.xavier_uniform_(generator.weight)
    if config.tie_embeddings:
        generator.weight = embed.token.weight
    return generator


class Transformer(nn.Module):
    """The encoder-decoder Transformer (§3). Defaults are the paper's base model (Table 3).

    ``settings`` are the fields of `TransformerConfig`: d_model=512, num_heads=8, d_ff=2048,
    dropout=0.1, norm_first=False (pre-norm instead of the paper's post-norm), activation="relu",
    positional="sinusoidal" ("learned", "rope", "alibi" or "none"), tie_embeddings=False (share
    the target embedding and the generator weight), max_len=512 (for "learned" positions).
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        **settings,
    ):
        super().__init__()
        config = TransformerConfig(**settings)
        self.config = dict(
            src_vocab_size=src_vocab_size,
            tgt_vocab_size=tgt_vocab_size,
            num_encoder_layers=num_encoder_layers,
            num_decoder_layers=num_decoder_layers,
            **asdict(config),
        )
        position = relative_positional(config.positional, config.head_dim, config.num_heads)
        self.src_embed = Embeddings(src_vocab_size, config)
        self.tgt_embed = Embeddings(tgt_vocab_size, config)
        self.encoder = Encoder(config, num_encoder_layers, position)
        self.decoder = Decoder(config, num_decoder_layers, position)
        _xavier_init_linears(self)
        self.generator = _generator(self.tgt_embed, tgt_vocab_size, config)

    def forward(self, src, tgt_in, src_mask=None, tgt_mask=None) -> Tensor:
        """Teacher-forced logits (batch, tgt_len, tgt_vocab) for int ids src (batch, src_len)
        and tgt_in (batch, tgt_len). ``src_mask``: source padding, e.g. ``padding_mask(src,
        pad)`` (batch, 1, 1, src_len). The decoder is causal by itself; ``tgt_mask`` may add
        target padding."""
        return self.decode(self.encode(src, src_mask), tgt_in, src_mask, tgt_mask)

    def encode(self, src, src_mask=None) -> Tensor:
        """The memory (batch, src_len, d_model): the encoder's reading of the source."""
        return self.encoder(self.src_embed(src), src_mask)

    def decode(
        self, memory: Tensor, tgt_in, src_mask=None, tgt_mask=None, cache: KVCache | None = None
    ) -> Tensor:
        """Logits (batch, new_len, tgt_vocab) for the target tokens ``tgt_in``.

        Without a cache ``tgt_in`` is the whole target prefix. With a `KVCache`, it holds only
        the new tokens (usually one column); their keys and values are appended to the cache,
        so step t costs O(t) and gives the same logits as recomputing the whole prefix.
        """
        return self.generator(self.decoder_states(memory, tgt_in, src_mask, tgt_mask, cache))

    def decoder_states(
        self, memory: Tensor, tgt_in, src_mask=None, tgt_mask=None, cache: KVCache | None = None
    ) -> Tensor:
        """The decoder's output (batch, new_len, d_model) before the generator: `decode` without
        the projection to the vocabulary (training projects only the real, non-pad positions)."""
        offset = 0 if cache is None else cache.offset
        return self.decoder(self.tgt_embed(tgt_in, offset), memory, src_mask, tgt_mask, cache)


class TransformerLM(nn.Module):
    """A decoder-only language model: embeddings, N causal `DecoderLayer`s without
    cross-attention, and the generator. ``settings`` as `Transformer`'s (`TransformerConfig`)."""

    def __init__(self, vocab_size: int, num_layers: int = 6, **settings):
        super().__init__()
        config = TransformerConfig(**settings)
        self.config = dict(vocab_size=vocab_size, num_layers=num_layers, **asdict(config))
        position = relative_positional(config.positional, config.head_dim, config.num_heads)
        self.embed = Embeddings(vocab_size, config)
        self.decoder = Decoder(config, num_layers, position, cross_attention=False)
        _xavier_init_linears(self)
        self.generator = _generator(self.embed, vocab_size, config)

    def forward(self, ids, mask=None, cache: KVCache | None = None) -> Tensor:
        """Next-token logits (batch, length, vocab) for int ids (batch, length); causal by itself,
        ``mask`` may add padding. With a `KVCache`, ``ids`` holds only the new tokens."""
        offset = 0 if cache is None else cache.offset
        hidden = self.decoder(self.embed(ids, offset), None, None, mask, cache)
        return self.generator(hidden)
