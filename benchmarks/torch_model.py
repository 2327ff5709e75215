"""The same pre-norm encoder-decoder Transformer in PyTorch, for `bench_train.py` to compare with.

Only imported when `torch` is installed (it is not a dependency of this project). It mirrors
`transformer.Transformer(norm_first=True)`: scaled token embeddings plus sinusoidal positions,
pre-norm layers with final norms, separate q/k/v/out projections with biases, a ReLU
feed-forward, and a key/value cache for greedy decoding (self-attention keys and values grow
by one position per step; cross-attention ones are computed once), as ours.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_table(max_len: int, d_model: int) -> torch.Tensor:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...)."""
    position = torch.arange(max_len)[:, None]
    scale = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2], table[:, 1::2] = torch.sin(position * scale), torch.cos(position * scale)
    return table


class Attention(nn.Module):
    """Multi-head attention with an optional cache dict {"k", "v"} (grown or static)."""

    def __init__(self, d_model, heads, dropout):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.q, self.k, self.v, self.o = (nn.Linear(d_model, d_model) for _ in range(4))

    def split(self, x):
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x, memory=None, mask=None, causal=False, cache=None, static=False):
        q = self.split(self.q(x))
        if cache is not None and static and "k" in cache:
            k, v = cache["k"], cache["v"]
        else:
            source = x if memory is None else memory
            k, v = self.split(self.k(source)), self.split(self.v(source))
            if cache is not None and not static and "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
        if cache is not None:
            cache["k"], cache["v"] = k, v
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0,
            is_causal=causal and cache is None,
        )  # fmt: skip
        b, h, t, dh = out.shape
        return self.o(out.transpose(1, 2).reshape(b, t, h * dh))


class Layer(nn.Module):
    """A pre-norm encoder layer (cross=False) or decoder layer (cross=True)."""

    def __init__(self, d_model, heads, d_ff, dropout, cross):
        super().__init__()
        self.self_attn = Attention(d_model, heads, dropout)
        self.cross_attn = Attention(d_model, heads, dropout) if cross else None
        self.ff = nn.Sequential(
            nn.Linear(d_model, d_ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(3 if cross else 2))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, memory=None, src_mask=None, causal=False, cache=None):
        own, cross = (None, None) if cache is None else (cache["self"], cache["cross"])
        h = self.norms[0](x)
        x = x + self.drop(self.self_attn(h, mask=None if causal else src_mask, causal=causal,
                                         cache=own))  # fmt: skip
        if self.cross_attn is not None:
            h = self.norms[1](x)
            x = x + self.drop(self.cross_attn(h, memory, src_mask, cache=cross, static=True))
        return x + self.drop(self.ff(self.norms[-1](x)))


class TorchTransformer(nn.Module):
    """Encoder-decoder with the constructor arguments of `transformer.Transformer`."""

    def __init__(
        self, src_vocab, tgt_vocab, d_model, heads, n_enc, n_dec, d_ff, dropout, max_len=512
    ):
        super().__init__()
        self.d_model = d_model
        self.src_embed, self.tgt_embed = (
            nn.Embedding(src_vocab, d_model),
            nn.Embedding(tgt_vocab, d_model),
        )
        self.register_buffer("pe", sinusoidal_table(max_len, d_model))
        self.enc = nn.ModuleList(Layer(d_model, heads, d_ff, dropout, False) for _ in range(n_enc))
        self.dec = nn.ModuleList(Layer(d_model, heads, d_ff, dropout, True) for _ in range(n_dec))
        self.enc_norm, self.dec_norm = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.generator = nn.Linear(d_model, tgt_vocab)
        self.drop = nn.Dropout(dropout)

    def embed(self, table, ids, offset=0):
        pe = self.pe[offset : offset + ids.shape[1]]
        return self.drop(table(ids) * math.sqrt(self.d_model) + pe)

    def encode(self, src, src_mask):
        x = self.embed(self.src_embed, src)
        for layer in self.enc:
            x = layer(x, src_mask=src_mask)
        return self.enc_norm(x)

    def decode(self, memory, tgt, src_mask, caches=None, offset=0):
        x = self.embed(self.tgt_embed, tgt, offset)
        for i, layer in enumerate(self.dec):
            x = layer(x, memory, src_mask, causal=True, cache=None if caches is None else caches[i])
        return self.generator(self.dec_norm(x))

    def forward(self, src, tgt_in, src_mask):
        return self.decode(self.encode(src, src_mask), tgt_in, src_mask)


@torch.no_grad()
def greedy(model, src, steps, bos=1, pad=0):
    """`steps` greedy tokens for every row, with the key/value cache."""
    model.eval()
    src_mask = (src != pad)[:, None, None, :]
    memory = model.encode(src, src_mask)
    caches = [{"self": {}, "cross": {}} for _ in model.dec]
    token = torch.full((src.shape[0], 1), bos, dtype=torch.long)
    out = []
    for t in range(steps):
        logits = model.decode(memory, token, src_mask, caches, offset=t)
        token = logits[:, -1].argmax(-1, keepdim=True)
        out.append(token)
    return torch.cat(out, 1)
