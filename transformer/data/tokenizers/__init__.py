"""Tokenizers: text <-> ids for characters, words, German number morphemes and BPE subwords.

All share the specials <pad>=0 <bos>=1 <eos>=2 <unk>=3, `encode`/`decode`, and JSON
`save`/`load`/`to_dict`/`from_dict`. See `base.py` first, then the kind you need.
"""

from transformer.data.tokenizers.base import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIALS,
    UNK_ID,
    Tokenizer,
)
from transformer.data.tokenizers.bpe import BPETokenizer
from transformer.data.tokenizers.char import CharTokenizer
from transformer.data.tokenizers.factory import (
    TOKENIZERS,
    build_tokenizer,
    load_tokenizer,
    tokenizer_from_dict,
)
from transformer.data.tokenizers.word import MorphemeTokenizer, WordTokenizer

__all__ = [
    "BOS_ID",
    "EOS_ID",
    "PAD_ID",
    "SPECIALS",
    "TOKENIZERS",
    "UNK_ID",
    "BPETokenizer",
    "CharTokenizer",
    "MorphemeTokenizer",
    "Tokenizer",
    "WordTokenizer",
    "build_tokenizer",
    "load_tokenizer",
    "tokenizer_from_dict",
]
