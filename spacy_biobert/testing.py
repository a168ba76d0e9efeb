"""A tiny BERT built from scratch (random weights, its own small WordPiece vocabulary), for tests and
smoke runs that must not download anything. It is a real `save_pretrained` model directory with
safetensors weights, so it loads through the same code path as BioBERT."""
import string
from pathlib import Path
from typing import Union

# Words seen in the test sentences, so most tokens are whole-word pieces.
_WORDS = """
the of and in a to with was were is are by for on as at from that this or after patients treatment
induced caused associated increased decreased effect effects risk dose doses rats mice cells cell
protein gene expression activity receptor inhibitor inhibits inhibited binds binding levels level
acute chronic toxicity disease diseases syndrome cancer tumor tumour carcinoma failure injury pain
hypertension hypotension nephrotoxicity hepatotoxicity cardiotoxicity seizures arrhythmia
cisplatin lithium naloxone clonidine morphine haloperidol aspirin warfarin fluorouracil
catechin synuclein necrosis factor alpha beta acetyl benzoquinone imine dideoxyinosine
renal kidney liver heart brain blood serum plasma human humans drug drugs interaction
""".split()


def make_tiny_bert(path: Union[str, Path], *, cased: bool = True, seed: int = 0) -> Path:
    """Write a tiny BERT model directory to `path` and return it.

    The cased variant ships only config.json, vocab.txt and weights, like the BioBERT checkpoints: with
    no tokenizer_config.json, `AutoTokenizer` would lower-case it, which is the trap the encoder's
    casing logic must avoid. The uncased variant has a lower-case-only vocabulary.

    path (Union[str, Path]): Output directory (created).
    cased (bool): Build a cased vocabulary (upper- and lower-case entries) or an uncased one.
    seed (int): Seed for the random weights.
    RETURNS (Path): The directory.
    """
    import torch
    from transformers import BertConfig, BertModel

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits + string.punctuation + "αβγ'")
    words = list(_WORDS)
    if cased:
        chars += list(string.ascii_uppercase)
        words += [w.capitalize() for w in _WORDS] + ["IL", "TNF", "FU", "Ca", "DNA", "RNA", "NCBI"]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += chars + ["##" + c for c in chars] + words
    vocab = list(dict.fromkeys(vocab))
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(path, safe_serialization=True)
    if not cased:
        (path / "tokenizer_config.json").write_text('{"do_lower_case": true}', encoding="utf8")
    return path
