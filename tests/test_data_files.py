"""File loaders: the formats, the Tatoeba recipe, and an error naming file:line for each fault."""

import pytest

from transformer.data import (
    DataError,
    Pair,
    aligned_dataset,
    load_dataset,
    read_aligned,
    read_tsv,
    tsv_dataset,
)


def write(path, data: bytes | str):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_tsv_ignores_extra_columns_and_accepts_bom_and_crlf(tmp_path):
    path = write(tmp_path / "deu.txt", "\ufeffGo.\tGeh.\tCC-BY 2.0 #1\r\nHi!\tHallo!\t#2\r\n")
    assert read_tsv(path) == [Pair("Go.", "Geh."), Pair("Hi!", "Hallo!")]


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"empty\.tsv: file is empty"):
        read_tsv(write(tmp_path / "empty.tsv", "\n \n"))


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_tsv(tmp_path / "nope.tsv")


def test_line_without_tab_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.tsv", "a\tb\nc\td\nno tab here\n")
    with pytest.raises(DataError, match=r"bad\.tsv:3: expected at least 2 tab-separated columns"):
        read_tsv(path)


def test_non_utf8_names_file_line_and_byte(tmp_path):
    path = write(tmp_path / "latin1.tsv", b"a\tb\n" + "Grüße\tx\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.tsv:2: not valid UTF-8 \(byte 0xfc at column 3"):
        read_tsv(path)


def test_empty_fields_are_skipped_with_a_warning_naming_lines(tmp_path):
    path = write(tmp_path / "holes.tsv", "a\tb\n\tx\n\nc\t \nd\te\n")
    with pytest.warns(UserWarning, match=r"holes\.tsv: skipped 3 pair\(s\).*line 2, 3, 4"):
        assert read_tsv(path) == [Pair("a", "b"), Pair("d", "e")]


def test_aligned_files_and_mismatched_line_counts(tmp_path):
    en = write(tmp_path / "train.en", "A man.\nTwo dogs.\n")
    de = write(tmp_path / "train.de", "Ein Mann.\nZwei Hunde.\n")
    assert read_aligned(en, de) == [Pair("A man.", "Ein Mann."), Pair("Two dogs.", "Zwei Hunde.")]
    short = write(tmp_path / "short.de", "Ein Mann.\n")
    with pytest.raises(DataError, match=r"train\.en has 2 lines but .*short\.de has 1"):
        read_aligned(en, short)


def test_tatoeba_recipe_cleans_shuffles_and_holds_out(tmp_path):
    lines = [f"Sentence {i}, please!\tSatz {i}, bitte!\tCC-BY" for i in range(50)]
    path = write(tmp_path / "deu.tsv", "\n".join(lines))
    splits = tsv_dataset(path, num_valid=5, num_test=10, seed=1, max_train=30)
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (30, 5, 10)
    assert splits.train[0].src.startswith("sentence ") and splits.train[0].src.endswith(
        " , please !"
    )
    everything = {p.src for p in splits.train + splits.valid + splits.test}
    assert len(everything) == 45 and splits.src_tokenizer == "bpe"
    assert tsv_dataset(path, num_valid=5, num_test=10, seed=1).test == splits.test
    assert tsv_dataset(path, num_valid=5, num_test=10, seed=2).test != splits.test
    with pytest.raises(DataError, match="cannot hold out"):
        tsv_dataset(path, num_valid=25, num_test=25)


def test_aligned_dataset_directory_and_prefix_forms(tmp_path):
    for split, n in (("train", 20), ("val", 3), ("test", 4)):
        write(tmp_path / f"{split}.en", "".join(f"Dog {split} {i}.\n" for i in range(n)))
        write(tmp_path / f"{split}.de", "".join(f"Hund {split} {i}.\n" for i in range(n)))
    splits = aligned_dataset(tmp_path, lowercase=False, punctuation=False)
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (20, 3, 4)
    assert splits.valid[0] == Pair("Dog val 0.", "Hund val 0.")
    prefixed = load_dataset(tmp_path / "train", num_valid=2, num_test=3)
    assert (len(prefixed.train), len(prefixed.valid), len(prefixed.test)) == (15, 2, 3)
    assert prefixed.test[0].tgt.startswith("hund train ")
    with pytest.raises(DataError, match="found neither"):
        aligned_dataset(tmp_path / "missing")


def test_load_dataset_routes_names_and_paths(tmp_path):
    assert load_dataset(num_train=10, num_valid=2, num_test=2).name == "numbers-en-de"
    assert load_dataset("sort", num_train=10, num_valid=2, num_test=2).name == "sort"
    path = write(tmp_path / "pairs.tsv", "".join(f"a{i}\tb{i}\n" for i in range(10)))
    assert len(load_dataset(path, num_valid=1, num_test=1).train) == 8
    with pytest.raises(DataError, match="unknown dataset 'numbers-en-xx'"):
        load_dataset("numbers-en-xx")
