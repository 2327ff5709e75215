"""One entry point for every dataset: `load_dataset(name_or_path, **options) -> Splits`.

    load_dataset()                              # numbers-en-de, the default task
    load_dataset("numbers-en-fr", num_train=5000)
    load_dataset("reverse", max_len=12)
    load_dataset("data/deu.txt")                # tab-separated pairs (Tatoeba)
    load_dataset("data/multi30k", tgt_lang="de") # aligned files: a directory or a prefix

The options are the keyword arguments of the function behind each name (`numbers_dataset`,
`task_dataset`, `tsv_dataset`, `aligned_dataset`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from transformer.data.corpora import aligned_dataset, tsv_dataset
from transformer.data.numbers import numbers_dataset
from transformer.data.pairs import DataError, Splits
from transformer.data.tasks import task_dataset

DATASETS = {
    "numbers-en-de": partial(numbers_dataset, "de"),
    "numbers-en-fr": partial(numbers_dataset, "fr"),
    "copy": partial(task_dataset, "copy"),
    "reverse": partial(task_dataset, "reverse"),
    "sort": partial(task_dataset, "sort"),
}
DEFAULT_DATASET = "numbers-en-de"
_TSV_SUFFIXES = (".tsv", ".txt")


def load_dataset(name_or_path: str | Path = DEFAULT_DATASET, **options) -> Splits:
    """Load a named generated dataset, a `.tsv`/`.txt` pair file, or line-aligned files."""
    name = str(name_or_path)
    if name in DATASETS:
        return DATASETS[name](**options)
    path = Path(name)
    if path.is_file() and path.suffix in _TSV_SUFFIXES:
        return tsv_dataset(path, **options)
    src_lang = options.get("src_lang", "en")
    if path.is_dir() or Path(f"{path}.{src_lang}").is_file():
        return aligned_dataset(path, **options)
    raise DataError(
        f"unknown dataset {name!r}: expected one of {sorted(DATASETS)}, a .tsv/.txt file of "
        f"tab-separated pairs, a prefix P with files P.{src_lang} and P.<tgt_lang>, or a "
        "directory with train.<lang> files"
    )
