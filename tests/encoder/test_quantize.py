"""Int8 inference path: config option and load-time switch, fp32 weights kept for training/saving."""
import copy

import numpy
import pytest
import spacy
import torch

from spacy_biobert import quantize_pipeline

TEXT = "Cisplatin induced nephrotoxicity in rats treated with lithium ."


def _nlp(trf_config, quantize=None):
    cfg = copy.deepcopy(trf_config)
    if quantize is not None:
        cfg["model"]["quantize"] = quantize
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=cfg)
    nlp.initialize()
    return nlp


def _vectors(nlp):
    return numpy.asarray(nlp(TEXT)._.trf_data.tensors[0]).copy()


def _n_quantized(module):
    return sum(1 for m in module.modules() if "quantized" in type(m).__module__ and "Linear" in type(m).__name__)


def test_config_option_predicts_with_int8_copy_and_keeps_fp32(tiny_trf_config):
    nlp = _nlp(tiny_trf_config, quantize=True)
    assert nlp.config["components"]["transformer"]["model"]["quantize"] is True
    model = nlp.get_pipe("transformer").model
    fp32_state = {k: v.clone() for k, v in model.transformer.state_dict().items()}
    out = _vectors(nlp)
    assert model._quantized is not None and _n_quantized(model._quantized) > 0
    # the model used for saving and training is untouched fp32
    assert _n_quantized(model.transformer) == 0
    assert all(torch.equal(fp32_state[k], v) for k, v in model.transformer.state_dict().items())
    # int8 output is close to, but not the same as, fp32
    quantize_pipeline(nlp, False)
    ref = _vectors(nlp)
    assert out.shape == ref.shape
    assert not numpy.array_equal(out, ref)
    cos = (out * ref).sum(-1) / (numpy.linalg.norm(out, axis=-1) * numpy.linalg.norm(ref, axis=-1))
    assert cos.mean() > 0.9


def test_default_is_fp32_and_load_time_switch(tiny_trf_config, tmp_path):
    nlp = _nlp(tiny_trf_config)
    assert nlp.config["components"]["transformer"]["model"]["quantize"] is False
    ref = _vectors(nlp)
    assert nlp.get_pipe("transformer").model._quantized is None
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    numpy.testing.assert_allclose(_vectors(loaded), ref, rtol=1e-4, atol=1e-4)
    assert quantize_pipeline(loaded) == ["transformer"]
    assert not numpy.array_equal(_vectors(loaded), ref)
    assert loaded.get_pipe("transformer").model._quantized is not None


def test_quantized_pipeline_saves_fp32_and_reloads_quantized(tiny_trf_config, tmp_path):
    nlp = _nlp(tiny_trf_config, quantize=True)
    out = _vectors(nlp)
    nlp.to_disk(tmp_path / "q")
    loaded = spacy.load(tmp_path / "q")
    assert loaded.get_pipe("transformer").model.attrs["quantize"] is True
    numpy.testing.assert_allclose(_vectors(loaded), out, rtol=1e-4, atol=1e-4)


def test_training_update_requantizes(tiny_trf_config):
    from spacy.training import Example

    nlp = _nlp(tiny_trf_config, quantize=True)
    model = nlp.get_pipe("transformer").model
    _vectors(nlp)
    assert model._quantized is not None
    nlp.update([Example.from_dict(nlp.make_doc(TEXT), {})], sgd=nlp.create_optimizer())
    assert model._quantized is None
