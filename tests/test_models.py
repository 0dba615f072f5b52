"""Model layer: fake backends, the registry and its error messages."""

from __future__ import annotations

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


@pytest.mark.parametrize(("native_bf16", "expected"), [(True, "bfloat16"), (False, "int8")])
def test_auto_picks_the_fast_encoder_for_the_cpu(monkeypatch, native_bf16, expected):
    from topicchat.models import st_backend

    monkeypatch.setattr(st_backend, "cpu_has_bf16", lambda: native_bf16)
    assert st_backend.pick_dtype("auto") == expected
    assert st_backend.pick_dtype("float32") == "float32", "an explicit choice is kept"
    with pytest.raises(ModelError, match="int8"):
        st_backend.pick_dtype("fp8")


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
