"""Pieces with the `##` glue marker: exact round trips, punctuation splitting, normalization."""

from hypothesis import given, settings
from hypothesis import strategies as st

from transformer.data import join_pieces, normalize, split_pieces, split_punctuation


def test_pieces_mark_glued_tokens():
    assert split_pieces("Hello, world!") == ["Hello", "##,", "world", "##!"]
    assert split_pieces("a ##b") == ["a", "#", "###", "##b"]
    assert join_pieces(["a", "#", "###", "##b"]) == "a ##b"


@settings(max_examples=60)
@given(st.text())
def test_join_inverts_split_for_single_spaced_text(text):
    single_spaced = " ".join(text.split())
    assert join_pieces(split_pieces(text)) == single_spaced


def test_recipe_normalization():
    assert split_punctuation("  Hi,   Tom!") == "Hi , Tom !"
    assert normalize("Hi, Tom!") == "hi , tom !"
    assert normalize("Hi,  Tom!", lowercase=False, punctuation=False) == "Hi, Tom!"
