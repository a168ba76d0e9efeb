"""Domain-adaptive pre-training: continue masked-language-model training of a BERT-family encoder on
raw biomedical text, as BioBERT did on PubMed, and write a model directory the encoder loads by path.

Modules: `texts` (reading raw text), `packing` (tokenising into fixed-length blocks), `masking`
(whole-word dynamic masking), `model` (loading a masked LM), `checkpoints` (save / resume) and `loop`
(the training loop). Nothing here is registered with spaCy, so `import spacy_biobert` stays light.
"""
from .loop import DEFAULT_MODEL, PretrainResult, PretrainSettings, evaluate_perplexity, pretrain
from .texts import TextStats, read_texts

__all__ = [
    "DEFAULT_MODEL", "PretrainResult", "PretrainSettings", "TextStats", "evaluate_perplexity",
    "pretrain", "read_texts",
]
