"""Loading a base encoder as a masked language model, with the same tokenizer the spaCy component
will use.

Decision on models without a masked-LM head: an encoder checkpoint saved without its MLM head
(a `BertModel`, or a sentence-transformers model such as the offline MiniLM) is accepted. Its
architecture can do MLM, so `AutoModelForMaskedLM` loads the encoder weights and initialises the head
(for BERT the output projection is tied to the word embeddings, so only a small transform layer and a
bias are new); this is reported, and perplexity before training is then that of an untrained head.
A model whose *architecture* has no masked-LM class in transformers (GPT-2, T5, ...), or whose
tokenizer has no mask token, cannot be pre-trained this way and is an error (E504). A checkpoint that
lacks encoder weights (not just the head) is an error too (E508): training would silently start from
a partly random encoder.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from ..errors import BioBertError, make_error
from ..transformer import resolve_model_source, vocab_is_cased


@dataclass
class LoadedMaskedLM:
    """The masked LM, its tokenizer, where they came from and which head tensors were initialised."""

    model: "object"
    tokenizer: "object"
    source: str
    new_head_tensors: List[str]
    # Base-model tensors a masked LM has no place for (BERT's pooler), keyed as the saved masked LM
    # would name them; written back into the output so it loads as a complete encoder.
    extra_tensors: Dict[str, "object"] = field(default_factory=dict)


def load_tokenizer(name: str, source: str):
    """Load the tokenizer, lower-casing only when the vocabulary is uncased (as the encoder does).

    name (str): The name the user gave (for messages).
    source (str): What `from_pretrained` loads (see `resolve_model_source`).
    RETURNS (PreTrainedTokenizerBase): The tokenizer.
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
    cased = vocab_is_cased(tokenizer)
    if cased is not None and bool(tokenizer.do_lower_case) == cased:
        # Same rule as spacy_biobert.transformer.load_hf_objects, so the saved tokenizer (which records
        # do_lower_case explicitly) matches what the spaCy component would have used on the base model.
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, do_lower_case=not cased)
    if tokenizer.mask_token is None or tokenizer.mask_token_id is None:
        raise make_error("E504", name=name, reason="its tokenizer has no mask token")
    return tokenizer


def load_masked_lm(name: str) -> LoadedMaskedLM:
    """Load `name` (local directory, installed package or hub name) as a masked language model.

    name (str): The base model.
    RETURNS (LoadedMaskedLM): Model (in training mode, on CPU), tokenizer and loading report.
    """
    from transformers import AutoConfig, AutoModelForMaskedLM
    from transformers.utils import logging as hf_logging
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    source, tried = resolve_model_source(name)
    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError, KeyError) as err:
        cause = " ".join(str(err).split())[:400]
        raise make_error("E001", name=name, tried="; ".join(tried), cause=cause) from err
    if config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        raise make_error(
            "E504", name=name,
            reason=f"its architecture '{config.model_type}' has no masked-LM head in transformers",
        )
    try:
        tokenizer = load_tokenizer(name, source)
        # transformers' own "newly initialized" warning is replaced by our report of the head.
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            model, info = AutoModelForMaskedLM.from_pretrained(
                source, config=config, trust_remote_code=False, output_loading_info=True
            )
        finally:
            hf_logging.set_verbosity(verbosity)
    except BioBertError:
        raise
    except (OSError, ValueError, KeyError) as err:
        cause = " ".join(str(err).split())[:400]
        raise make_error("E001", name=name, tried="; ".join(tried), cause=cause) from err
    head, encoder = _split_missing(model, info.get("missing_keys", []))
    if encoder:
        raise make_error("E508", name=name, n=len(encoder), examples=", ".join(encoder[:3]))
    model.train()
    return LoadedMaskedLM(model, tokenizer, source, head, _pooler_tensors(source, model))


def _pooler_tensors(source: str, model) -> Dict[str, "object"]:
    """The base checkpoint's pooler weights (single-file safetensors only; else none)."""
    from safetensors import safe_open

    weights = Path(source) / "model.safetensors"
    if not weights.exists():
        return {}
    prefix = getattr(model, "base_model_prefix", "")
    out = {}
    with safe_open(str(weights), framework="pt") as f:
        for key in f.keys():
            bare = key[len(prefix) + 1:] if prefix and key.startswith(prefix + ".") else key
            if bare.startswith("pooler."):
                out[f"{prefix}.{bare}" if prefix else bare] = f.get_tensor(key)
    return out


def save_encoder_dir(path: Path, model, tokenizer, extra_tensors: Dict[str, "object"]) -> None:
    """Save the masked LM as a model directory that loads both as a masked LM (to continue
    pre-training) and, complete with the base model's pooler, as a plain encoder (`AutoModel`, as the
    spaCy component does) without "newly initialized" weights.

    path (Path): Output directory.
    model (PreTrainedModel): The masked LM.
    tokenizer (PreTrainedTokenizerBase): Its tokenizer.
    extra_tensors (Dict[str, torch.Tensor]): Tensors to add to the weights file.
    """
    from safetensors.torch import load_file, save_file

    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    weights = Path(path) / "model.safetensors"
    if extra_tensors and weights.exists():
        state = load_file(str(weights))
        state.update({k: v.contiguous() for k, v in extra_tensors.items() if k not in state})
        save_file(state, str(weights), metadata={"format": "pt"})


def _split_missing(model, missing: List[str]) -> Tuple[List[str], List[str]]:
    """Missing weights of the MLM head (fine: initialised) and of the encoder (not fine)."""
    prefix = getattr(model, "base_model_prefix", "")
    # Buffers such as position_ids are rebuilt, never loaded, in some transformers versions.
    missing = [k for k in missing if not k.endswith("position_ids")]
    encoder = [k for k in missing if prefix and k.startswith(prefix + ".")]
    head = [k for k in missing if k not in encoder]
    return head, encoder
