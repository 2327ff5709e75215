"""The whole model: causality, padding, cached decoding == full recomputation, gradients,
dropout, weight tying, configuration and input errors."""

import numpy as np
import pytest
from helpers import float32_order_tolerance, leaf

import minigrad
from transformer import (
    DecoderLayer,
    EncoderLayer,
    KVCache,
    Transformer,
    TransformerConfig,
    TransformerLM,
    padding_mask,
)

SCHEMES = ["sinusoidal", "learned", "rope", "alibi", "none"]
V = 13
RNG = np.random.default_rng(7)


def to_float64(*modules):
    """Cast every parameter to float64 (the model then computes in float64 throughout)."""
    for module in modules:
        for p in module.parameters():
            p.data = p.data.astype(np.float64)
    return modules[0]


def small_model(positional="sinusoidal", norm_first=False, float64=True, **kwargs):
    minigrad.manual_seed(3)
    options = dict(d_model=16, num_heads=4, num_encoder_layers=2, num_decoder_layers=2, d_ff=24)
    model = Transformer(V, V, positional=positional, norm_first=norm_first, **options, **kwargs)
    model.eval()
    return to_float64(model) if float64 else model


def ids(batch, length, low=1):
    return RNG.integers(low, V, size=(batch, length))


@pytest.mark.parametrize("positional", ["sinusoidal", "rope", "alibi"])
def test_decoder_output_at_t_ignores_later_targets(positional):
    model = small_model(positional)
    src, tgt = ids(2, 5), ids(2, 6)
    t = 2
    changed = tgt.copy()
    changed[:, t + 1 :] = ids(2, 6 - t - 1)
    logits, logits_changed = model(src, tgt).data, model(src, changed).data
    np.testing.assert_array_equal(logits[:, : t + 1], logits_changed[:, : t + 1])
    assert not np.allclose(logits[:, t + 1 :], logits_changed[:, t + 1 :])
    # ... and its gradient with respect to later target positions is exactly zero
    x = leaf(2, 6, 16)
    out = model.decoder(x, model.encode(src))
    (out[:, t] * minigrad.tensor(RNG.standard_normal((2, 16)))).sum().backward()
    assert (x.grad.data[:, t + 1 :] == 0).all()
    assert (np.abs(x.grad.data[:, : t + 1]).sum(-1) > 0).all()


@pytest.mark.parametrize("norm_first", [False, True])
def test_padded_source_content_does_not_matter(norm_first):
    model = small_model("rope", norm_first)
    src = ids(2, 6)
    src[0, 4:] = 0
    src[1, 2:] = 0
    mask = padding_mask(src, 0)
    other = src.copy()
    other[src == 0] = ids(2, 6)[src == 0]  # new content where the padding was
    tgt = ids(2, 4)
    np.testing.assert_allclose(model(src, tgt, mask).data, model(other, tgt, mask).data, atol=1e-12)
    memory, memory_other = model.encode(src, mask).data, model.encode(other, mask).data
    np.testing.assert_allclose(memory[src != 0], memory_other[src != 0], atol=1e-12)
    assert not np.allclose(model(other, tgt).data, model(src, tgt).data)  # unmasked: it does


def decode_stepwise(model, src, tgt, mask, chunks):
    """Logits of ``tgt`` fed to the cached decoder in chunks of the given sizes."""
    memory, cache = model.encode(src, mask), KVCache()
    pieces, start = [], 0
    for size in chunks:
        pieces.append(model.decode(memory, tgt[:, start : start + size], mask, cache=cache).data)
        start += size
    assert cache.offset == tgt.shape[1]
    return np.concatenate(pieces, axis=1), cache


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("positional", SCHEMES)
def test_cached_decoding_equals_full_recomputation(positional, norm_first):
    model = small_model(positional, norm_first)
    src, tgt = ids(3, 5), ids(3, 7)
    src[1, 3:] = 0
    mask = padding_mask(src, 0)
    with minigrad.no_grad():
        full = model(src, tgt, mask).data
        one_by_one, cache = decode_stepwise(model, src, tgt, mask, [1] * 7)
        in_chunks, _ = decode_stepwise(model, src, tgt, mask, [3, 1, 2, 1])
    np.testing.assert_allclose(one_by_one, full, atol=1e-10)
    np.testing.assert_allclose(in_chunks, full, atol=1e-10)
    assert cache.layers[0].self_attn.key.shape == (3, 4, 7, 4)
    assert cache.layers[0].cross_attn.key.shape == (3, 4, 5, 4)  # from the source, once
    assert cache.layers[0].self_attn.stacked_projection is not None  # one q/k/v product a step


def test_cached_decoding_in_float32():
    """Cached decoding in float32 equals full recomputation up to float32 rounding: one query
    at a time takes other BLAS kernels and attention paths than all at once, so the two differ
    by the rounding error of the forward pass, measured against the same weights in float64
    (helpers.float32_order_tolerance)."""
    model = small_model("rope", float64=False)
    src, tgt = ids(2, 5), ids(2, 6)
    with minigrad.no_grad():
        full = model(src, tgt).data
        stepwise, _ = decode_stepwise(model, src, tgt, None, [1] * 6)
        exact = to_float64(model)(src, tgt).data
    assert stepwise.dtype == np.float32 and full.dtype == np.float32
    tolerance = float32_order_tolerance(full, exact)
    np.testing.assert_allclose(stepwise, full, rtol=0, atol=2 * tolerance)


def test_cross_attention_keys_are_computed_once():
    model = small_model()
    src, tgt = ids(2, 5), ids(2, 3)
    memory, cache = model.encode(src), KVCache()
    model.decode(memory, tgt[:, :1], cache=cache)
    first = cache.layers[1].cross_attn.key
    model.decode(memory, tgt[:, 1:2], cache=cache)
    assert cache.layers[1].cross_attn.key is first
    assert len(cache.layers[1].self_attn) == 2
    assert cache.layers[1].self_attn.stacked_projection is None  # with gradients: three Linears


def test_self_attention_cache_appends_without_copying_the_past():
    model = small_model()
    src, tgt = ids(2, 5), ids(2, 4)
    memory, cache = model.encode(src), KVCache()
    with minigrad.no_grad():
        model.decode(memory, tgt[:, :1], cache=cache)
        model.decode(memory, tgt[:, 1:2], cache=cache)
        keys = cache.layers[0].self_attn.key.data
        model.decode(memory, tgt[:, 2:3], cache=cache)
    grown = cache.layers[0].self_attn.key.data
    assert grown.shape[-2] == 3 and np.shares_memory(keys, grown)  # one buffer, filled in place


def test_cache_reorder_follows_the_chosen_batch_rows():
    model = small_model("alibi")
    src, tgt = ids(3, 5), ids(3, 6)
    order = np.array([2, 2, 0])  # e.g. beam search keeping hypothesis 2 twice and 0 once
    with minigrad.no_grad():
        full = model(src[order], tgt[order]).data
        memory, cache = model.encode(src), KVCache()
        model.decode(memory, tgt[:, :3], cache=cache)
        cache.reorder(order)
        rest = model.decode(memory[order], tgt[order][:, 3:], cache=cache).data
    np.testing.assert_allclose(rest, full[:, 3:], atol=1e-10)
    with pytest.raises(ValueError, match="1-D integer"):
        cache.reorder(np.array([0.0, 1.0]))


@pytest.mark.parametrize("positional", ["sinusoidal", "rope", "alibi"])
def test_language_model_is_causal_and_caches(positional):
    minigrad.manual_seed(0)
    lm = TransformerLM(V, d_model=16, num_heads=2, num_layers=2, d_ff=24, positional=positional)
    to_float64(lm).eval()
    x = ids(2, 6)
    with minigrad.no_grad():
        full = lm(x).data
        cache = KVCache()
        steps = np.concatenate([lm(x[:, t : t + 1], cache=cache).data for t in range(6)], 1)
    np.testing.assert_allclose(steps, full, atol=1e-10)
    changed = x.copy()
    changed[:, 4:] = ids(2, 2)
    np.testing.assert_array_equal(lm(changed).data[:, :4], full[:, :4])
    assert (
        not hasattr(lm.decoder.layers[0], "cross_attn") or lm.decoder.layers[0].cross_attn is None
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_gradients_through_an_encoder_and_a_decoder_layer(norm_first):
    minigrad.manual_seed(1)
    config = TransformerConfig(d_model=8, num_heads=2, d_ff=12, dropout=0.0, norm_first=norm_first)
    encoder = EncoderLayer(config)
    decoder = DecoderLayer(config)
    to_float64(encoder, decoder)
    src_mask = padding_mask(np.array([[1, 1, 1, 0], [1, 1, 1, 1]]), 0)
    x, y = leaf(2, 4, 8), leaf(2, 3, 8)
    params = [
        encoder.self_attn.w_q.weight, encoder.feed_forward.w_1.bias, encoder.self_attn_norm.weight,
        decoder.self_attn.w_v.weight, decoder.cross_attn.w_k.weight, decoder.cross_attn.w_o.bias,
        decoder.feed_forward.w_2.weight, decoder.feed_forward_norm.bias,
    ]  # fmt: skip
    assert minigrad.gradcheck(
        lambda x, y, *_: decoder(y, encoder(x, src_mask), src_mask), [x, y, *params]
    )


def test_gradients_through_the_whole_model_with_rope_and_tied_embeddings():
    model = small_model("rope", tie_embeddings=True)
    src, tgt = ids(2, 4), ids(2, 3)
    params = [model.src_embed.token.weight, model.tgt_embed.token.weight, model.generator.bias]
    assert minigrad.gradcheck(lambda *_: model(src, tgt), params)


def test_dropout_only_in_training_mode():
    model = small_model(dropout=0.3)
    src, tgt = ids(2, 5), ids(2, 4)
    model.train()
    assert not np.allclose(model(src, tgt).data, model(src, tgt).data)
    model.eval()
    np.testing.assert_array_equal(model(src, tgt).data, model(src, tgt).data)


def test_tied_embeddings_share_one_matrix():
    tied, untied = small_model(tie_embeddings=True), small_model()
    assert tied.generator.weight is tied.tgt_embed.token.weight
    assert untied.num_parameters() - tied.num_parameters() == V * 16


def test_config_rebuilds_the_same_architecture():
    model = small_model("learned", norm_first=True, float64=False, activation="gelu", max_len=20)
    copy = Transformer(**model.config)
    copy.load_state_dict(model.state_dict())
    copy.eval()
    src, tgt = ids(2, 5), ids(2, 4)
    np.testing.assert_array_equal(copy(src, tgt).data, model(src, tgt).data)


def test_bad_inputs_get_clear_errors():
    model = small_model()
    with pytest.raises(ValueError, match=r"integer array \(batch, length\)"):
        model(np.ones((2, 3)), ids(2, 3))
    with pytest.raises(ValueError, match=r"integer array \(batch, length\)"):
        model(ids(2, 3)[0], ids(2, 3))
    with pytest.raises(IndexError, match="out of range"):
        model(ids(2, 3) + V, ids(2, 3))
    with pytest.raises(ValueError, match="memory"):
        model.decoder.layers[0](minigrad.randn(1, 2, 16))
