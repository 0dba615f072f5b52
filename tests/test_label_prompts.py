"""Label validation and strict prompt rendering."""

from __future__ import annotations

import pytest

from topicchat.indexer.label import clean_label, trim_label, validate_label, validate_summary
from topicchat.indexer.prompting import MissingVariables, render, render_messages


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
    [
        ('Label: "Monetary Policy."\nmore text', "Monetary Policy"),
        ("**Gene Editing**", "Gene Editing"),
        ("\n\nTopic - Football", "Football"),
    ],
)
def test_clean_label(raw, expected):
    assert clean_label(raw) == expected


def test_validate_label_rejects_echoes_copies_and_lists():
    docs = ["we study the effect of rising interest rates on prices"]
    assert validate_label("Interest Rates and Prices", docs) is None
    assert validate_label("", docs) == "empty"
    assert (
        validate_label("Monetary Policy and Inflation", docs, "monetary policy and inflation")
        == "echoes the prompt's example"
    )
    assert validate_label("we study the effect of", docs) == "copies a document"
    assert validate_label("Effect of Rising Interest Rates", docs) is None, "a phrase inside a document is fine"
    assert (
        validate_label("The Sparse Frontier: A New", ["The Sparse Frontier: A New Approach to Attention"])
        == "copies a document"
    )
    assert validate_label("gene, dna, rna", docs) == "a keyword list, not a label"
    assert validate_label("Keywords: gene", docs) == "echoes the prompt"
    assert validate_label("one two three four five six seven eight nine", docs) == "too long"
    assert validate_label('The topic is "The Impact', docs) == "a sentence, not a label"
    assert validate_label('Impact of "Large Models', docs) == "cut off"
    assert validate_label("Draft Models and Draft Models", docs) == "repeats itself"
    assert validate_label("Gender Bias and Biases and Biases", docs) == "repeats itself"
    more = ["topic models and their coherence", "documents for retrieval"]
    assert validate_label("Topic Models and Topic Coherence", more) is None, "a repeated word is fine"
    assert validate_label("Documents and Retrieval", more) is None


def test_label_words_must_come_from_the_topic():
    docs = ["Lemmatisation of research abstracts", "language models for lemmatization"]
    assert validate_label("Lemmatization and Research", docs) is None, "stems match: researches ~ research"
    assert validate_label("Lemmatical Re-Searches", docs) == "not in the topic's documents: Lemmatical, Re-Searches"
    assert validate_label("Extrem Language Models", docs) == "not in the topic's documents: Extrem"


def test_trim_label_never_ends_on_a_connector():
    assert (
        trim_label("Question Answering and Factoid Question Answering with a Free-Text")
        == "Question Answering and Factoid Question Answering"
    )
    assert trim_label("Short Label") == "Short Label"
    assert trim_label("Sentiment and Speech Synthesis and") == "Sentiment and Speech Synthesis", "a reply cut short"
    assert trim_label("Memory for the") == "Memory"


def test_validate_summary():
    assert validate_summary("These documents study how genes mutate over generations.", []) is None
    assert validate_summary("Too short.", []) == "too short"


def test_a_summary_stating_a_fact_its_documents_lack_is_refused():
    from topicchat.indexer.label import clean_summary

    docs = ["The Red Sox beat the Yankees in Boston in 2004, as large language models (LLMs) predicted.", "Baseball"]
    assert validate_summary("These documents discuss how the Red Sox won in 2004.", docs) is None
    assert validate_summary("These documents discuss how the Red Sox won in 2022.", docs) == (
        "states a number the documents lack (2022)"
    )
    assert validate_summary("These documents discuss how the Red Sox won the World Series.", docs).startswith(
        "names what the documents do not (serie"
    )
    assert validate_summary("These documents discuss what LLMs predict about the Yankees.", docs) is None, "an acronym"
    assert clean_summary("These documents discuss how the U.S. Senate votes. Then more.") == (
        "These documents discuss how the U.S. Senate votes."
    )


def test_a_refused_summary_quotes_the_topic_s_key_sentence():
    from topicchat.indexer.label import label_topics
    from topicchat.models.fake import ScriptedGenerator

    topics, titles, texts = _topics()
    texts["d1"] = "We sequence genes to study genetics and heredity across many generations of mice."
    topics[0].keywords["ctfidf"] = [("genes", 1.0), ("heredity", 0.9)]
    gen = ScriptedGenerator(
        [
            "Genetics and Heredity",
            "Football Leagues",
            "These documents discuss gene sequencing since 1990.",
            "These documents discuss football matches and their scores.",
        ]
    )
    counts = label_topics(topics, gen, titles, texts, summaries=True)
    assert topics[0].summary == f"“{texts['d1']}”" and topics[0].quality["summary_rejected"] == 1.0
    assert topics[1].summary == "These documents discuss football matches and their scores."
    assert (counts["llm_summaries"], counts["extractive_summaries"]) == (1, 1)


def _topics():
    from topicchat.indexer.topics import TopicRecord

    genes = TopicRecord(
        0,
        40,
        {
            "keybert": [("gene", 0.9), ("genes", 0.85), ("dna", 0.8), ("mutation", 0.7)],
            "mmr": [("genome", 0.9), ("heredity", 0.6)],
        },
        ["d1"],
    )
    goals = TopicRecord(1, 30, {"keybert": [("football", 0.9), ("goal", 0.8), ("league", 0.7)]}, ["d2"])
    return (
        [genes, goals],
        {"d1": "Genome study", "d2": "Cup final"},
        {"d1": "We sequence genes to study genetics and heredity.", "d2": "The match ended 2-1."},
    )


def test_distinct_keywords_drops_near_duplicates():
    from topicchat.indexer.label import distinct_keywords

    assert distinct_keywords(["gender bias", "biases", "bias", "stereotypes"]) == ["gender bias", "stereotypes"]
    assert distinct_keywords(["text-to-sql systems", "text-to-sql", "sql generation"]) == [
        "text-to-sql systems",
        "sql generation",
    ]
    assert distinct_keywords(["a", "b", "c"], limit=2) == ["a", "b"]


def test_rejected_label_is_asked_again_over_the_mmr_keywords():
    from topicchat.indexer.label import label_topics
    from topicchat.models.fake import ScriptedGenerator

    topics, titles, texts = _topics()
    gen = ScriptedGenerator(["gene, dna, mutation, rna", "Football Leagues", "Genetics and Heredity"])
    counts = label_topics(topics, gen, titles, texts, summaries=False)
    assert [t.label for t in topics] == ["Genetics and Heredity", "Football Leagues"]
    assert [t.label_source for t in topics] == ["llm", "llm"]
    assert counts["llm_labels"] == 2 and len(gen.prompts) == 3, "only the rejected label is asked again"
    assert gen.prompts[0][-1]["content"].endswith("gene, dna, mutation"), "near-duplicate keywords are dropped"
    assert gen.prompts[-1][-1]["content"].endswith("genome, heredity"), "the retry shows the MMR keywords"
    assert gen.prompts[-1][:-1] == gen.prompts[0][:-1], "same instructions and example"


def test_label_that_fails_its_retry_falls_back_to_keywords_with_both_reasons():
    from topicchat.indexer.label import label_topics
    from topicchat.models.fake import ScriptedGenerator

    topics, titles, texts = _topics()
    gen = ScriptedGenerator(["Football Leagues", "Keywords: gene", "gene, dna, rna"])
    counts = label_topics(topics[::-1], gen, titles, texts, summaries=False)
    genes = topics[0]
    assert genes.label == genes.keyword_label() and counts["fallback_labels"] == 1
    assert genes.label_source == "keywords"
    assert genes.label_rejected == "LLM reply rejected: echoes the prompt; retry: a keyword list, not a label"


def test_a_label_may_use_any_word_of_the_topics_documents_but_no_invented_one():
    from topicchat.indexer.label import topic_vocabularies
    from topicchat.indexer.topics import TopicRecord

    representatives = ["Dense retrieval with passage ranking."]
    members = ["Dense retrieval with passage ranking.", "Rerankers improve reliability of search engines."]
    leaves = [TopicRecord(0, 2, {}, ["a"]), TopicRecord(1, 1, {}, ["b"], parent=2)]
    leaves[0].parent = 2
    parent = TopicRecord(2, 3, {}, ["a"], level=1, children=[0, 1])
    vocab = topic_vocabularies([*members, "Speech codecs."], [0, 0, 1], [*leaves, parent])
    assert validate_label("Retrieval Reliability", representatives) is not None  # not in the representatives
    assert validate_label("Retrieval Reliability", representatives, vocab=vocab[0]) is None  # in a member
    assert validate_label("Retrieval Reliabilism", representatives, vocab=vocab[0]).endswith("Reliabilism")
    assert validate_label("Speech Retrieval", representatives, vocab=vocab[0]) is not None  # another topic's word
    assert validate_label("Speech Retrieval", representatives, vocab=vocab[2]) is None  # the parent holds both


def test_a_reply_listing_phrases_is_read_as_its_first_phrase_when_that_passes():
    from topicchat.indexer.label import _checked

    docs = ["Sparse mixture-of-experts models with token routing to experts (MoE)."]
    assert _checked("Mixture-of-Experts Routing, MoE, Sparse Models", docs, "", None) == (
        "Mixture-of-Experts Routing",
        None,
    )
    label, reason = _checked("MoE, Sparse, Experts", docs, "", None)  # a first "phrase" of one word stays a list
    assert reason == "a keyword list, not a label"


@pytest.mark.parametrize(
    "reply, label",
    [  # replies the 135M writer gave on BBC News
        ("Mergers and Acquisitions and Mergers", "Mergers and Acquisitions"),
        ("Films and Cinema and Film-Cinema", "Films and Cinema"),
        ("Mike Leigh and Best Actor: Best", "Mike Leigh and Best Actor"),
        ("Losing Elena and Elena's Elena", "Losing Elena"),
        ("Hard Drive and Blu-ray and Dvd-DVDs", "Hard Drive and Blu-ray and DVDs"),
        ("Large Language Models and Language Models", "Large Language Models"),
        # a part that adds a word stays, and so do hyphenated words of two different words
        ("Labour Party and Labour Election", "Labour Party and Labour Election"),
        ("Speech-to-Speech Translation and Pre-training", "Speech-to-Speech Translation and Pre-training"),
        ("Input/Output Devices", "Input/Output Devices"),
        ("Yo-yo Dieting", "Yo-yo Dieting"),  # a reduplicated word is one word
        ("C and C++ Compilers", "C and C++ Compilers"),
        # a part repeating a hyphenated word's part goes; the label keeps two words
        ("Self-Attention and Attention", "Self-Attention"),
        ("Tony Blair and Blair", "Tony Blair"),
    ],
)
def test_a_label_loses_the_parts_that_only_repeat_its_words(reply, label):
    from topicchat.indexer.label import _checked

    words = " ".join(reply.replace("-", " ").replace("/", " ").replace(":", " ").replace("'s", "").split())
    docs = [f"A document about {words} {label}."]
    assert _checked(reply, docs, "", None) == (label, None)


def test_a_label_closer_to_another_topic_falls_back_to_a_key_phrase_that_fits():
    from topicchat.indexer.label import closest_to_own
    from topicchat.indexer.topics import LabelSource, TopicRecord
    from topicchat.models.fake import HashingEmbedder

    embedder = HashingEmbedder(256)
    words = {0: "telescope galaxy nebula", 1: "recipe oven flour"}
    topics = [
        TopicRecord(i, 10, {"ctfidf": [(w, 1.0) for w in words[i].split()]}, [], label="", label_source=LabelSource.LLM)
        for i in (0, 1)
    ]
    topics[0].label = "Recipe Oven Flour"  # the model named topic 0 after topic 1
    topics[1].label = "Oven Recipes And Flour"
    vectors = {i: embedder.embed([words[i]])[0] for i in (0, 1)}
    closest_to_own(topics, embedder, vectors)
    assert topics[0].label_source is LabelSource.KEYWORDS and "closer to topic 1" in topics[0].label_rejected
    assert topics[0].label.lower().startswith("telescope")
    assert topics[1].label == "Oven Recipes And Flour" and topics[1].label_source is LabelSource.LLM


def test_a_leaf_summary_quotes_the_sentence_holding_most_keywords():
    from topicchat.indexer.label import key_sentence
    from topicchat.indexer.topics import TopicRecord

    topic = TopicRecord(0, 2, {"ctfidf": [("speech", 1.0), ("recognition", 0.9), ("low-resource", 0.8)]}, ["a", "b"])
    texts = {
        "a": "We study many things in this paper at length. Speech recognition for low-resource languages is hard.",
        "b": "Another abstract about speech, without a final stop and long enough to count",
    }
    assert key_sentence(topic, texts) == "Speech recognition for low-resource languages is hard."
    texts["a"] = "Nothing relevant here at all, just filler words and more."
    assert key_sentence(topic, texts) == "Another abstract about speech, without a final stop and long enough to count…"


@pytest.mark.parametrize(
    "label",
    [
        "Gender Bias and Gender Stereotypes and Gender-Neutral, Gender-Neutral",
        "Agents Agents",
    ],
)
def test_stuttering_labels_are_refused(label):
    docs = [label.replace(",", " ") + " appear in these documents about many things"]
    assert validate_label(label, docs) in ("a keyword list, not a label", "repeats itself")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Visual Tokens and Visual Tokens", "Visual Tokens"),
        (
            "Domain Adaptation and Object Detection and Object Detection and Domain",
            "Domain Adaptation and Object Detection",
        ),
        ("The Art of Execution and the Art of Execution", "The Art of Execution"),
    ],
)
def test_a_stuttering_reply_is_read_up_to_its_first_repetition(reply, expected):
    from topicchat.indexer.label import _checked

    docs = [f"Many documents study {expected.lower()} with care."]
    assert _checked(reply, docs, "", None) == (expected, None)


@pytest.mark.parametrize(
    "reply",
    ["Thinking and Thinking and Thinking", "Agents Agents", "Self-Attention Self-Attention", "Thinking and Thinking"],
)
def test_a_stutter_leaving_one_word_stays_refused(reply):
    from topicchat.indexer.label import _checked

    docs = ["Thinking agents think about agents, thinking and self-attention."]
    assert _checked(reply, docs, "", None)[1] == "repeats itself"


def test_a_label_failing_both_prompts_is_asked_once_more_over_the_ctfidf_keywords():
    from topicchat.indexer.label import label_topics
    from topicchat.models.fake import ScriptedGenerator

    topics, titles, texts = _topics()
    topics[0].keywords["ctfidf"] = [("sequencing", 0.9), ("genetics", 0.8)]
    texts["d1"] += " Sequencing methods."
    gen = ScriptedGenerator(["gene, dna, mutation, rna", "Football Leagues", "Keywords: genome", "Genetics Sequencing"])
    label_topics(topics, gen, titles, texts, summaries=False)
    assert topics[0].label == "Genetics Sequencing" and topics[0].label_source == "llm"
    assert len(gen.prompts) == 4 and gen.prompts[-1][-1]["content"].endswith("sequencing, genetics")

    topics, titles, texts = _topics()
    topics[0].keywords["ctfidf"] = [("sequencing", 0.9), ("genetics", 0.8)]
    gen = ScriptedGenerator(["gene, dna, mutation, rna", "Football Leagues", "Keywords: genome", "Lemmatical Genes"])
    label_topics(topics, gen, titles, texts, summaries=False)
    assert topics[0].label_source == "keywords"
    assert topics[0].label_rejected == (
        "LLM reply rejected: a keyword list, not a label; retry: echoes the prompt; "
        "retry: not in the topic's documents: Lemmatical"
    )


def test_the_same_keywords_are_never_asked_twice():
    from topicchat.indexer.label import label_topics
    from topicchat.models.fake import ScriptedGenerator

    topics, titles, texts = _topics()
    topics[0].keywords["ctfidf"] = list(topics[0].keywords["mmr"])  # c-TF-IDF says what MMR said
    gen = ScriptedGenerator(["gene, dna, mutation, rna", "Football Leagues", "Keywords: genome"])
    label_topics(topics, gen, titles, texts, summaries=False)
    assert len(gen.prompts) == 3 and topics[0].label_source == "keywords"
