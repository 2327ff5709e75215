"""Data for the Transformer: datasets, tokenizers, batching.

    from transformer.data import load_dataset, build_tokenizer, encode_pairs, make_batches

    splits = load_dataset("numbers-en-de")                         # Splits(train, valid, test)
    src_tok = build_tokenizer(splits.src_tokenizer, [p.src for p in splits.train])
    tgt_tok = build_tokenizer(splits.tgt_tokenizer, [p.tgt for p in splits.train])
    train = encode_pairs(splits.train, src_tok, tgt_tok, max_len=64)
    for batch in make_batches(train, batch_size=64, seed=0, epoch=0):
        batch.src, batch.tgt_in, batch.tgt_out                       # (B, S), (B, T), (B, T)

Read in this order: `pairs` (what a dataset is), `numbers`/`german` (the default task),
`tokenizers/`, `batching`. See docs/data.md for the whole story.
"""

from transformer.data.batching import Batch, Example, collate, encode_pairs, make_batches
from transformer.data.corpora import aligned_dataset, clean_pairs, tsv_dataset
from transformer.data.files import read_aligned, read_lines, read_tsv
from transformer.data.german import split_number_word
from transformer.data.numbers import english_number, number_words, numbers_dataset, sample_numbers
from transformer.data.pairs import DataError, Pair, Splits, holdout_splits
from transformer.data.registry import DATASETS, DEFAULT_DATASET, load_dataset
from transformer.data.tasks import TASKS, task_dataset
from transformer.data.text import join_pieces, normalize, split_pieces, split_punctuation
from transformer.data.tokenizers import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIALS,
    TOKENIZERS,
    UNK_ID,
    BPETokenizer,
    CharTokenizer,
    MorphemeTokenizer,
    Tokenizer,
    WordTokenizer,
    build_tokenizer,
    load_tokenizer,
    tokenizer_from_dict,
)

__all__ = [
    "BOS_ID",
    "DATASETS",
    "DEFAULT_DATASET",
    "EOS_ID",
    "PAD_ID",
    "SPECIALS",
    "TASKS",
    "TOKENIZERS",
    "UNK_ID",
    "BPETokenizer",
    "Batch",
    "CharTokenizer",
    "DataError",
    "Example",
    "MorphemeTokenizer",
    "Pair",
    "Splits",
    "Tokenizer",
    "WordTokenizer",
    "aligned_dataset",
    "build_tokenizer",
    "clean_pairs",
    "collate",
    "encode_pairs",
    "english_number",
    "holdout_splits",
    "join_pieces",
    "load_dataset",
    "load_tokenizer",
    "make_batches",
    "normalize",
    "number_words",
    "numbers_dataset",
    "read_aligned",
    "read_lines",
    "read_tsv",
    "sample_numbers",
    "split_number_word",
    "split_pieces",
    "split_punctuation",
    "task_dataset",
    "tokenizer_from_dict",
    "tsv_dataset",
]
