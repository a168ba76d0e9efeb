"""Sentence-level IOB data for the NER benchmarks: every system (ours, BioBERT's recipe, spaCy's
CNN) trains and is scored on exactly these token sequences, so tokenisation cannot explain a gap.

The corpora are read from the shared corpus folder (SPACY_BIOBERT_CORPORA overrides it) in the
sentence-split IOB2 form BioBERT itself was trained on; nothing is copied into the repo.
"""
import os
import random
from pathlib import Path
from typing import Dict, List, Tuple

Sentence = Tuple[List[str], List[str]]  # (words, IOB2 tags)

ROOT = Path(os.environ.get("SPACY_BIOBERT_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora"))

# corpus -> (train file, devel file) under ROOT; JNLPBA has no devel file (see _jnlpba_split).
FILES: Dict[str, Tuple[str, str]] = {
    "bc5cdr": ("bc5cdr/iob/train.tsv", "bc5cdr/iob/devel.tsv"),
    "ncbi_disease": ("ncbi_disease/conll/train.tsv", "ncbi_disease/conll/devel.tsv"),
    "linnaeus": ("linnaeus/iob/train.tsv", "linnaeus/iob/devel.tsv"),
    "s800": ("s800/train.tsv", "s800/devel.tsv"),
    "jnlpba": ("jnlpba/train/Genia4ERtask2.iob2", ""),
}
# Corpora whose files carry untyped B/I tags, and the type to give them.
UNTYPED = {"s800": "Species"}
# The last 200 JNLPBA training abstracts are devel (BioBERT's convention; project.yml does the same).
JNLPBA_DEVEL_DOCS = 200


def read_iob(path: Path) -> List[List[Sentence]]:
    """Read a 2-column (token, tag) file: blank lines end sentences, `###` / `-DOCSTART-` lines
    start documents. RETURNS documents as lists of sentences (one document when there are no
    markers)."""
    docs: List[List[Sentence]] = [[]]
    words: List[str] = []
    tags: List[str] = []

    def flush() -> None:
        if words:
            docs[-1].append((list(words), list(tags)))
            words.clear()
            tags.clear()

    with path.open(encoding="utf8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("###") or line.startswith("-DOCSTART-"):
                flush()
                if docs[-1]:
                    docs.append([])
                continue
            if not line.strip():
                flush()
                continue
            cols = line.split("\t")
            if len(cols) < 2:
                raise ValueError(f"{path}:{n}: expected 'token<TAB>tag', got {line!r}")
            words.append(cols[0])
            tags.append(cols[-1])
    flush()
    return [d for d in docs if d]


def load(corpus: str, *, train_limit: int = 0, dev_limit: int = 0, seed: int = 0) -> Dict[str, List[Sentence]]:
    """Train and devel sentences of a corpus.

    train_limit (int): Keep this many training sentences, drawn at random with a fixed sampling seed
        (the same subset for every system and run seed; 0: all).
    dev_limit (int): Keep the first this many devel sentences (0: all).
    seed (int): Seed of the training subset draw (kept fixed across run seeds on purpose).
    RETURNS (Dict[str, List[Sentence]]): {"train": [...], "dev": [...]}.
    """
    train_file, dev_file = FILES[corpus]
    if dev_file:
        train = [s for d in read_iob(ROOT / train_file) for s in d]
        dev = [s for d in read_iob(ROOT / dev_file) for s in d]
    else:
        docs = read_iob(ROOT / train_file)
        train = [s for d in docs[:-JNLPBA_DEVEL_DOCS] for s in d]
        dev = [s for d in docs[-JNLPBA_DEVEL_DOCS:] for s in d]
    if corpus in UNTYPED:
        fix = lambda tags: [f"{t}-{UNTYPED[corpus]}" if t in ("B", "I") else t for t in tags]
        train = [(w, fix(t)) for w, t in train]
        dev = [(w, fix(t)) for w, t in dev]
    if train_limit and train_limit < len(train):
        train = random.Random(seed).sample(train, train_limit)
    if dev_limit:
        dev = dev[:dev_limit]
    return {"train": train, "dev": dev}


def labels(sentences: List[Sentence]) -> List[str]:
    """Entity types in the data, sorted."""
    return sorted({t[2:] for _, tags in sentences for t in tags if t != "O"})
