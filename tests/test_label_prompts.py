"""Label validation and strict prompt rendering."""

from __future__ import annotations

import pytest

from indexer.label import clean_label, trim_label, validate_label, validate_summary
from indexer.prompting import MissingVariables, render, render_messages


def test_render_is_strict_and_single_pass():
    with pytest.raises(MissingVariables, match="documents"):
        render("{keywords} / {documents}", keywords="x")
    assert render("Q: {question}", question="{documents} {oops}") == "Q: {documents} {oops}"


def test_label_prompt_is_chat_turns_with_an_example():
    messages = render_messages("label", keywords="gene, dna")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "gene, dna" in messages[-1]["content"]
    summary = render_messages("summary", label="Genetics", keywords="gene, dna", documents="- A genome study")
    assert "A genome study" in summary[-1]["content"] and "Genetics" in summary[-1]["content"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [('Label: "Monetary Policy."\nmore text', "Monetary Policy"), ("**Gene Editing**", "Gene Editing"), ("\n\nTopic - Football", "Football")],
)
def test_clean_label(raw, expected):
    assert clean_label(raw) == expected


def test_validate_label_rejects_echoes_copies_and_lists():
    docs = ["we study the effect of rising interest rates on prices"]
    assert validate_label("Interest Rates and Prices", docs) is None
    assert validate_label("", docs) == "empty"
    assert validate_label("Monetary Policy and Inflation", docs, "monetary policy and inflation") == "echoes the prompt's example"
    assert validate_label("we study the effect of", docs) == "copies a document"
    assert validate_label("Effect of Rising Interest Rates", docs) is None, "a phrase inside a document is fine"
    assert validate_label("The Sparse Frontier: A New", ["The Sparse Frontier: A New Approach to Attention"]) == "copies a document"
    assert validate_label("gene, dna, rna", docs) == "a keyword list, not a label"
    assert validate_label("Keywords: gene", docs) == "echoes the prompt"
    assert validate_label("one two three four five six seven eight nine", docs) == "too long"


def test_trim_label_never_ends_on_a_connector():
    assert trim_label("Question Answering and Factoid Question Answering with a Free-Text") == "Question Answering and Factoid Question Answering"
    assert trim_label("Short Label") == "Short Label"


def test_validate_summary():
    assert validate_summary("These documents study how genes mutate over generations.", []) is None
    assert validate_summary("Too short.", []) == "too short"
