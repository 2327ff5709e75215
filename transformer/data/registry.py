"""One entry point for every dataset: `load_dataset(name_or_path, **options) -> Splits`.

    load_dataset()                              # numbers-en-de, the default task
    load_dataset("numbers-en-fr", num_train=5000)
    load_dataset("reverse", max_len=12)
    load_dataset("data/deu.txt")                # tab-separated pairs (Tatoeba)
    load_dataset("data/multi30k", tgt_lang="de") # aligned files: a directory or a prefix

The options are the keyword arguments of the function behind each name (`numbers_dataset`,
`task_dataset`, `tsv_dataset`, `aligned_dataset`; `dataset_options` lists them). They are checked
before the loader runs: an unknown name, or a value not of the parameter's annotated type,
raises `DataError` naming the option. `parse_options` reads them from text by those types
(the command line's `--data-option max_train=20000`).
"""

from __future__ import annotations

import inspect
import math
import types
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

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
    loader = _loader(name_or_path, options.get("src_lang", "en"))
    parameters = _parameters(loader)
    for key, value in options.items():
        kinds = _kinds(_parameter(parameters, key, name_or_path, loader))
        if not any(_is_a(value, kind) for kind in kinds):
            raise DataError(f"data option {key} must be {_describe(kinds)}, got {value!r}")
    return loader(**options)


def dataset_options(
    name_or_path: str | Path = DEFAULT_DATASET, src_lang: str = "en"
) -> dict[str, inspect.Parameter]:
    """The options of a dataset's loader by name, with their annotated types and defaults."""
    return _parameters(_loader(name_or_path, src_lang))


def parse_options(name_or_path: str | Path, texts: dict[str, str]) -> dict[str, Any]:
    """Options given as text, read by the types of the loader's parameters.

    Numbers, `true`/`false`, `none` (where None is allowed) or text: `{"max_train": "20000"}`
    gives `{"max_train": 20000}`; "1e3" for an integer parameter or an unknown name raises
    `DataError` naming the option and what it takes.
    """
    loader = _loader(name_or_path, texts.get("src_lang", "en"))
    parameters = _parameters(loader)
    options = {}
    for key, text in texts.items():
        kinds = _kinds(_parameter(parameters, key, name_or_path, loader))
        for kind in kinds:
            try:
                options[key] = _read(text, kind)
                break
            except ValueError:
                continue
        else:
            raise DataError(f"data option {key} must be {_describe(kinds)}, got {text!r}")
    return options


def _loader(name_or_path: str | Path, src_lang: str) -> Callable[..., Splits]:
    """The loader of a dataset name or path (with the path bound), or a `DataError`."""
    name = str(name_or_path)
    if name in DATASETS:
        return DATASETS[name]
    path = Path(name)
    if path.is_file() and path.suffix in _TSV_SUFFIXES:
        return partial(tsv_dataset, path)
    if path.is_dir() or Path(f"{path}.{src_lang}").is_file():
        return partial(aligned_dataset, path)
    if path.suffix in _TSV_SUFFIXES:
        raise DataError(f"{path}: {'not a regular file' if path.exists() else 'no such file'}")
    raise DataError(
        f"unknown dataset {name!r}: expected one of {sorted(DATASETS)}, a .tsv/.txt file of "
        f"tab-separated pairs, a prefix P with files P.{src_lang} and P.<tgt_lang>, or a "
        "directory with train.<lang> files"
    )


def _parameters(loader: Callable[..., Splits]) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(loader, eval_str=True).parameters)


def _parameter(parameters, key: str, name_or_path, loader: partial) -> inspect.Parameter:
    """The loader's parameter `key`, or a `DataError` listing the valid options."""
    if key not in parameters:
        raise DataError(
            f"{name_or_path} ({loader.func.__name__}) has no data option {key!r}; its options "
            f"are {', '.join(parameters)}"
        )
    return parameters[key]


def _kinds(parameter: inspect.Parameter) -> tuple[type, ...]:
    """The types a parameter's annotation allows: `int | None` -> (int, NoneType)."""
    annotation = parameter.annotation
    if isinstance(annotation, types.UnionType):
        return annotation.__args__
    return (annotation,)


def _is_a(value: Any, kind: type) -> bool:
    """isinstance, except that a bool is not a number and an int is also a float."""
    if isinstance(value, bool) and kind is not bool:
        return False
    return isinstance(value, int | float) if kind is float else isinstance(value, kind)


def _read(text: str, kind: type) -> Any:
    """`text` as a value of `kind` (ValueError if it is not one)."""
    if kind is type(None):
        if text.lower() not in ("none", "null"):
            raise ValueError(text)
        return None
    if kind is bool:
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    if kind is float and not math.isfinite(float(text)):
        raise ValueError(text)
    return kind(text)


def _describe(kinds: tuple[type, ...]) -> str:
    """ "an integer or none" for (int, NoneType)."""
    names = {int: "an integer", float: "a number", bool: "true or false", type(None): "none"}
    return " or ".join(dict.fromkeys(names.get(kind, "text") for kind in kinds))
