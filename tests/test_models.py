"""Model layer: fake backends, the registry and its error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from topicchat.models.base import ModelError, normalise
from topicchat.models.fake import HashingEmbedder, ScriptedGenerator
from topicchat.models.registry import load_embedder, load_generator


def test_hashing_embedder_is_deterministic_and_content_dependent():
    emb = HashingEmbedder(128)
    a, b, c = emb.embed(["galaxy star telescope", "star galaxy telescope orbit", "flour butter oven"])
    assert np.allclose(np.linalg.norm([a, b, c], axis=1), 1.0)
    assert a @ b > 0.7 and abs(a @ c) < 0.3
    assert np.array_equal(emb.embed(["galaxy star telescope"])[0], a)


def test_scripted_generator_replays_queue_then_derives_from_prompt():
    gen = ScriptedGenerator(["first reply\nsecond line"])
    msg = [{"role": "user", "content": "galaxy galaxy telescope nebula"}]
    assert gen.generate(msg, stop=["\n"]) == "first reply"
    assert gen.generate(msg) == "Galaxy Nebula Telescope"
    assert "".join(gen.stream(msg)) == "Galaxy Nebula Telescope"


def test_registry_builds_fakes_by_config_string():
    assert load_embedder("fake").dim == 256
    assert load_embedder("fake:64").dim == 64
    assert isinstance(load_generator("fake"), ScriptedGenerator)


def test_missing_llama_backend_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import fails as if the extra were absent
    from topicchat.models.llamacpp_backend import LlamaCppGenerator

    with pytest.raises(ModelError, match=r"topicchat\[llama\]"):
        LlamaCppGenerator("model.gguf")


def test_unreachable_hub_model_names_offline_alternatives(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from topicchat.models.st_backend import SentenceTransformerEmbedder

    with pytest.raises(ModelError) as err:
        SentenceTransformerEmbedder("thenlper/gte-small-not-cached-here")
    assert "sentence-transformers/all-MiniLM-L6-v2" in str(err.value)


def test_normalise_keeps_zero_rows():
    out = normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(out[0], [0.6, 0.8]) and np.allclose(out[1], 0.0)


def test_encoder_variants_round_trip_through_the_model_id():
    from topicchat.models.st_backend import parse_variant, variant_name

    assert variant_name("", 256, 256) == "" and parse_variant("") == ("float32", None)
    assert variant_name("bf16", 256, 256) == "bf16" and parse_variant("bf16") == ("bfloat16", None)
    assert variant_name("int8-onnx", 128, 256) == "int8-onnx-t128"
    assert parse_variant("int8-onnx-t128") == ("int8", 128)
    assert parse_variant("t128") == ("float32", 128) and parse_variant("bf16-t64") == ("bfloat16", 64)
    assert variant_name("", 512, 256) == "", "a cut longer than the model's own limit is no cut"


@pytest.mark.parametrize(
    ("native_bf16", "vnni", "expected"),
    [(True, True, "bfloat16"), (False, True, "int8"), (False, False, "float32")],
)
def test_auto_picks_the_fast_encoder_for_the_cpu(monkeypatch, native_bf16, vnni, expected):
    from topicchat.models import st_backend

    monkeypatch.setattr(st_backend, "cpu_has_bf16", lambda: native_bf16)
    monkeypatch.setattr(st_backend, "cpu_has_vnni", lambda: vnni)
    assert st_backend.pick_dtype("auto") == expected
    assert st_backend.pick_dtype("float32") == "float32", "an explicit choice is kept"
    with pytest.raises(ModelError, match="int8"):
        st_backend.pick_dtype("fp8")


@pytest.mark.parametrize(
    ("x86", "features", "flags", "vnni"),
    [
        (True, {"AVX512F": True, "AVX512VNNI": True}, set(), True),  # Cascade Lake, Ice Lake, Zen 4
        (True, {"AVX512F": True, "AVX512VNNI": False}, {"avx512f"}, False),  # Skylake-X
        (True, {"AVX512F": False, "AVX512VNNI": False}, {"avx2", "avx_vnni"}, True),  # Alder Lake
        (True, {"AVX512F": False, "AVX512VNNI": False}, {"avx2"}, False),  # Zen 2/3, Haswell
        (True, {"AVX512F": False, "AVX512VNNI": False}, {"avx512f", "avx_vnni"}, False),  # extensions hidden
        (False, {"AVX512F": False, "ASIMDDP": True}, set(), True),  # Arm with dot products (numpy lists x86 keys too)
        (False, {"AVX512F": False, "ASIMDDP": False}, set(), False),
    ],
)
def test_vnni_is_read_from_what_the_kernels_see(monkeypatch, x86, features, flags, vnni):
    from topicchat.models import st_backend

    monkeypatch.setattr(st_backend, "_x86", lambda: x86)
    monkeypatch.setattr(st_backend, "kernel_features", lambda: features)
    monkeypatch.setattr(st_backend, "cpu_flags", lambda: flags)
    assert st_backend.cpu_has_vnni() is vnni


def test_without_bf16_or_vnni_the_automatic_encoder_is_float32_on_128_tokens(monkeypatch):
    """The fast path of an AVX2-only CPU: float32 torch on each text's first 128 word pieces, named in the
    model id; an explicit float32 keeps the model's own length."""
    from topicchat.models import registry, st_backend

    monkeypatch.setattr(st_backend, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(st_backend, "cpu_has_vnni", lambda: False)
    registry.load_embedder.cache_clear()
    try:
        fast = registry.load_embedder(registry.DEFAULT_EMBEDDER, "auto")
        exact = registry.load_embedder(registry.DEFAULT_EMBEDDER, "float32")
        assert fast.model_id == "sentence-transformers/all-MiniLM-L6-v2#t128"
        assert exact.model_id == "sentence-transformers/all-MiniLM-L6-v2"
        prefix = " ".join(["retrieval augmented generation with long context windows"] * 25)  # > 150 word pieces
        texts = [prefix + " and recipes for baking sourdough bread", prefix + " and spin chains in quantum magnets"]
        a, b = fast.embed(texts), exact.embed(texts)
        assert float(a[0] @ a[1]) > 0.9999, "only the first 128 word pieces count"
        assert float(b[0] @ b[1]) < 0.9999, "at the model's own length the endings count"
    finally:
        registry.load_embedder.cache_clear()


def _cpuid_can_be_masked() -> bool:
    import shutil

    from topicchat.models.st_backend import cpu_flags

    flags = cpu_flags()
    return "cpuid_fault" in flags and "avx512_bf16" in flags and shutil.which("cc") is not None


@pytest.mark.skipif(not _cpuid_can_be_masked(), reason="needs a bf16 CPU with CPUID faulting and a C compiler")
def test_a_cpu_that_reports_only_avx2_gets_the_float32_encoder_and_generator():
    """Under benchmarks/avx2only the kernels see an AVX2-only CPU (torch, numpy); the automatic choices follow
    what the kernels see, not /proc/cpuinfo, which still lists this CPU's bf16 flags."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    probe = (
        "import torch; from topicchat.models import st_backend, hf_backend; "
        "print(torch.backends.cpu.get_cpu_capability(), st_backend.pick_dtype('auto'), hf_backend.generator_dtype())"
    )
    env = {k: v for k, v in os.environ.items() if k != "TOPICCHAT_GENERATOR_DTYPE"}
    # -X faulthandler: a program that sets its own SIGSEGV handler (Ray and pytest do) still runs masked
    run = [sys.executable, "-m", "benchmarks.avx2only", sys.executable, "-X", "faulthandler", "-c", probe]
    done = subprocess.run(run, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["AVX2", "float32", "float32"], "no VNNI either: float32 on 128 tokens"
    plain = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert plain.stdout.split()[1:] == ["bfloat16", "bfloat16"], "this CPU itself keeps bf16"


def test_the_int8_encoder_refuses_models_it_would_embed_differently(tmp_path):
    import json

    from topicchat.models.onnx_backend import check_compatible

    plain = tmp_path / "plain"
    (plain / "1_Pooling").mkdir(parents=True)
    (plain / "modules.json").write_text(
        json.dumps(
            [{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Pooling"}]
        )
    )
    (plain / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    check_compatible(plain)  # MiniLM's shape: accepted

    dense = tmp_path / "dense"
    dense.mkdir()
    (dense / "modules.json").write_text(
        json.dumps(
            [{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Dense"}]
        )
    )
    with pytest.raises(ModelError, match="Dense"):
        check_compatible(dense)

    maxpool = tmp_path / "maxpool"
    (maxpool / "1_Pooling").mkdir(parents=True)
    (maxpool / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_max_tokens": True}))
    with pytest.raises(ModelError, match="max_tokens"):
        check_compatible(maxpool)


def test_generator_precision_follows_the_cpu_unless_set(monkeypatch):
    from topicchat.models import hf_backend
    from topicchat.models.base import ModelError

    monkeypatch.delenv("TOPICCHAT_GENERATOR_DTYPE", raising=False)
    monkeypatch.setattr(hf_backend, "cpu_has_bf16", lambda: True)
    assert hf_backend.generator_dtype() == "bfloat16"
    monkeypatch.setattr(hf_backend, "cpu_has_bf16", lambda: False)
    assert hf_backend.generator_dtype() == "float32", "emulated bf16 is slower than float32"
    monkeypatch.setenv("TOPICCHAT_GENERATOR_DTYPE", "BFloat16")
    assert hf_backend.generator_dtype() == "bfloat16"
    monkeypatch.setenv("TOPICCHAT_GENERATOR_DTYPE", "fp8")
    with pytest.raises(ModelError, match="TOPICCHAT_GENERATOR_DTYPE"):
        hf_backend.generator_dtype()


def test_rows_for_packs_every_text_once_within_the_row_length():
    from topicchat.models.packed import rows_for

    lengths = [40, 12, 90, 7, 33, 150, 60, 60, 2]
    rows = rows_for(lengths, 96)
    placed = sorted(i for row in rows for i in row)
    assert placed == list(range(len(lengths)))
    assert [5] in rows, "a text longer than a row gets a row to itself"
    assert all(sum(lengths[i] for i in row) <= 150 for row in rows)
    assert len(rows) < len(lengths), "short texts share rows"


@pytest.mark.parametrize("dtype", ["auto", "float32"])
def test_packed_short_texts_embed_as_the_padded_batch_does(dtype):
    """Evidence candidates go through the encoder packed into rows; each text must still get its own
    vector, as `embed` gives it (order kept, long texts cut where `embed` cuts them)."""
    from topicchat.models import registry

    embedder = registry.load_embedder(registry.DEFAULT_EMBEDDER, dtype)
    if not hasattr(embedder, "embed_short"):
        pytest.skip(f"the automatic encoder on this CPU is {embedder.model_id} (ONNX Runtime, not packed)")
    # ~100 word pieces on translation, then ~300 on cooking: cut at 128 or 256 (or not at all), its
    # vector is a different mix, so a packer cutting anywhere but where `embed` cuts fails the cosine check
    long = (
        " ".join(["transformer language models for low-resource machine translation"] * 12)
        + " "
        + " ".join(["slow roasted garlic and sourdough bread baked in a wood fired oven"] * 25)
    )
    texts = [
        "We study hallucination detection in abstractive summarisation.",
        "Speech recognition for children's voices remains hard.",
        long,
        "BERT",
        "",
        "Speech recognition for children's voices remains hard.",
        "Results improve exact match by 4.2 points on Natural Questions and TriviaQA, without extra training data.",
    ] * 3
    packed, padded = embedder.embed_short(texts), embedder.embed(texts)
    assert packed.shape == padded.shape and packed.dtype == np.float32
    assert embedder._packer is not None, "MiniLM is a mean-pooled BERT encoder: it should be packed"
    cosine = (packed * padded).sum(axis=1)
    assert cosine.min() > 0.9995, cosine
    assert np.allclose(np.linalg.norm(packed, axis=1), 1.0, atol=1e-4)
    pieces = embedder.model.tokenizer(long)["input_ids"]
    assert len(pieces) > embedder.max_tokens + 64
    cut_earlier = embedder.model.tokenizer.decode(pieces[1 : embedder.max_tokens - 64])
    assert float(packed[2] @ embedder.embed([cut_earlier])[0]) < 0.99, "where the text is cut shows in its vector"
    distinct = [0, 1, 2, 3, 6]
    similarity = packed[distinct] @ padded[distinct].T
    assert (similarity.argmax(axis=1) == np.arange(len(distinct))).all(), "each vector belongs to its own text"
    assert embedder.embed_short([]).shape == (0, embedder.dim)


@pytest.mark.parametrize("dtype", ["auto", "float32"])
def test_whole_abstracts_embedded_in_packed_rows_get_the_vectors_encode_gives(dtype, monkeypatch):
    """A build's chunks go through the packed encoder where bf16 is native (`bulk_packed`); forced on here on
    any CPU: every abstract keeps its own vector, as `SentenceTransformer.encode` gives it, in input order."""
    import json

    from topicchat.models import packed, registry
    from topicchat.models.catalog import demo_corpus_path

    embedder = registry.load_embedder(registry.DEFAULT_EMBEDDER, dtype)
    if not hasattr(embedder, "bulk_packed"):
        pytest.skip(f"the automatic encoder on this CPU is {embedder.model_id} (ONNX Runtime, not packed)")
    corpus = demo_corpus_path()
    assert corpus is not None, "the demo corpus ships with the install"
    abstracts = [d["arxiv_summary"] for d in json.loads(Path(corpus).read_text(encoding="utf-8"))[:90]]
    texts = [*abstracts, "BERT", "", abstracts[0]]  # short, empty and a repeat among whole abstracts
    monkeypatch.setattr(embedder, "bulk_packed", False)
    padded = embedder.embed(texts)
    calls = []
    real_encode = packed.PackedBertEncoder.encode
    monkeypatch.setattr(
        packed.PackedBertEncoder,
        "encode",
        lambda self, batch, row_tokens=96: calls.append(len(batch)) or real_encode(self, batch, row_tokens),
    )
    monkeypatch.setattr(embedder, "bulk_packed", True)
    bulk = embedder.embed(texts)
    assert sum(calls) == len(texts), "every text went through the packer once"
    assert bulk.shape == padded.shape and bulk.dtype == np.float32
    cosine = (bulk * padded).sum(axis=1)
    assert cosine.min() > 0.9995, cosine
    distinct = list(range(92))
    assert ((bulk[distinct] @ padded[distinct].T).argmax(axis=1) == np.arange(92)).all(), "vectors in input order"
    calls.clear()
    embedder.embed(texts[:10])
    assert calls == [], "a few texts take the model's own batches"

    def broken(self, batch, row_tokens=96):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(packed.PackedBertEncoder, "encode", broken)
    assert np.allclose(embedder.embed(texts), padded, atol=1e-5), "a failed packed build embeds the usual way"
    assert embedder.bulk_packed is False and embedder._packer is not None, "short texts keep their fast path"


def test_a_packer_that_disagrees_with_the_model_is_not_used(monkeypatch):
    """The packer checks itself against `SentenceTransformer.encode` when built; if its vectors differ
    (another architecture, a library change), the embedder keeps its ordinary batched path."""
    from topicchat.models import packed, registry

    embedder = registry.load_embedder(registry.DEFAULT_EMBEDDER, "float32")
    real_encode = packed.PackedBertEncoder.encode
    monkeypatch.setattr(
        packed.PackedBertEncoder, "encode", lambda self, texts, row_tokens=96: real_encode(self, texts)[::-1].copy()
    )
    assert packed.build_packer(embedder.model) is None
    assert packed.build_packer(object()) is None


def test_a_packer_that_fails_mid_answer_falls_back_to_the_model(monkeypatch):
    """An error in the fast path (a torch upgrade changing a kernel, say) costs speed, never the answer."""
    from topicchat.models import packed, registry

    embedder = registry.load_embedder(registry.DEFAULT_EMBEDDER, "float32")
    texts = ["Speech recognition for children's voices remains hard.", "BERT"]
    expected = embedder.embed(texts)
    embedder.embed_short(texts)
    assert isinstance(embedder._packer, packed.PackedBertEncoder)

    def broken(self, texts, row_tokens=96):
        raise RuntimeError("kernel gone")

    monkeypatch.setattr(packed.PackedBertEncoder, "encode", broken)
    try:
        assert np.allclose(embedder.embed_short(texts), expected, atol=1e-6)
        assert embedder._packer is None, "a failed packer is dropped, not retried on every question"
    finally:
        registry.load_embedder.cache_clear()  # later tests get an embedder with its packer
