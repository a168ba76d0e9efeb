"""Entity-level strict precision/recall/F1 with the semantics of CoNLL's `conlleval` script.

BioBERT, PubMedBERT (BLURB) and most biomedical NER papers report `conlleval` figures, so anything
compared with them has to decode tags the same way. The points that differ from a naive "B starts
an entity" reading:

- an `I-X` after `O`, after the end of a chunk of another type, or at the start of a sentence
  starts a new chunk (IOB1 style), it is not dropped;
- `I-X` after `B-Y`/`I-Y` closes the `Y` chunk and opens an `X` chunk;
- a chunk is correct only when its start, end and type all match a gold chunk (strict).

The two helpers below, `_end_of_chunk` and `_start_of_chunk`, follow conlleval.pl's `endOfChunk`
and `startOfChunk` with the `S-` (single) tag added as in the widely used Python port
(sighsmile/conlleval, also seqeval's default mode), so IOB1, IOB2 and IOBES all decode. Sentence boundaries are chunk
boundaries, as in conlleval, where a blank line resets the previous tag to `O`.
"""
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence, Set, Tuple

from spacy.tokens import Doc

Chunk = Tuple[int, int, int, str]  # (sentence index, start token, end token exclusive, type)


def _split_tag(tag: str) -> Tuple[str, str]:
    """`B-Chemical` -> ("B", "Chemical"); `O` -> ("O", ""). Split at the first hyphen, as
    conlleval.pl's `/([^-]*)-(.*)/` does."""
    prefix, sep, type_ = tag.partition("-")
    return (prefix, type_) if sep else (tag or "O", "")


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """conlleval.pl `endOfChunk`: does a chunk end between the previous word and this one?"""
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag != "O" and prev_type != type_


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """conlleval.pl `startOfChunk`: does a chunk start at this word?"""
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag != "O" and prev_type != type_


def conlleval_chunks(sentences: Iterable[Sequence[str]]) -> Set[Chunk]:
    """Decode tag sequences into chunks the way conlleval does.

    sentences (Iterable[Sequence[str]]): One tag sequence per sentence (IOB1, IOB2 or IOBES).
    RETURNS (Set[Chunk]): (sentence index, start, end exclusive, type) for every chunk.
    """
    chunks: Set[Chunk] = set()
    for s_idx, tags in enumerate(sentences):
        prev_tag, prev_type = "O", ""
        start = -1
        for i, raw in enumerate(list(tags) + ["O"]):  # the trailing O closes the last chunk
            tag, type_ = _split_tag(raw)
            if start >= 0 and _end_of_chunk(prev_tag, tag, prev_type, type_):
                chunks.add((s_idx, start, i, prev_type))
                start = -1
            if i < len(tags) and _start_of_chunk(prev_tag, tag, prev_type, type_):
                start = i
            prev_tag, prev_type = tag, type_
    return chunks


@dataclass
class ChunkScores:
    """Counts and strict P/R/F (in percent, like conlleval) overall and per entity type."""

    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0
    per_type: Dict[str, Tuple[int, int, int]] = field(default_factory=dict)  # type -> (tp, pred, gold)

    @staticmethod
    def _prf(tp: int, n_pred: int, n_gold: int) -> Dict[str, float]:
        p = 100.0 * tp / n_pred if n_pred else 0.0
        r = 100.0 * tp / n_gold if n_gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"p": p, "r": r, "f": f, "tp": tp, "pred": n_pred, "gold": n_gold}

    @property
    def overall(self) -> Dict[str, float]:
        """RETURNS (Dict[str, float]): p, r, f (percent) and the counts over all types."""
        return self._prf(self.tp, self.n_pred, self.n_gold)

    def by_type(self) -> Dict[str, Dict[str, float]]:
        """RETURNS (Dict[str, Dict[str, float]]): p, r, f (percent) and counts per entity type."""
        return {t: self._prf(*c) for t, c in sorted(self.per_type.items())}

    def to_dict(self) -> Dict:
        """RETURNS (Dict): JSON-ready overall and per-type figures."""
        return {"overall": self.overall, "per_type": self.by_type()}


def conlleval_score(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]
) -> ChunkScores:
    """Entity-level strict scores of predicted against gold tags, as conlleval computes them.

    gold (Sequence[Sequence[str]]): Gold tags, one sequence per sentence.
    pred (Sequence[Sequence[str]]): Predicted tags, aligned one-to-one with `gold`.
    RETURNS (ChunkScores): Overall and per-type counts and P/R/F.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted ones")
    gold_chunks = conlleval_chunks(gold)
    pred_chunks = conlleval_chunks(pred)
    scores = ChunkScores(
        tp=len(gold_chunks & pred_chunks), n_pred=len(pred_chunks), n_gold=len(gold_chunks)
    )
    counts: Dict[str, List[int]] = {}
    for chunk in gold_chunks:
        counts.setdefault(chunk[3], [0, 0, 0])[2] += 1
    for chunk in pred_chunks:
        c = counts.setdefault(chunk[3], [0, 0, 0])
        c[1] += 1
        if chunk in gold_chunks:
            c[0] += 1
    scores.per_type = {t: (c[0], c[1], c[2]) for t, c in counts.items()}
    return scores


def doc_iob_tags(doc: Doc) -> List[str]:
    """IOB2 tags of a Doc's entities, for scoring spaCy output with `conlleval_score`.

    doc (Doc): The doc.
    RETURNS (List[str]): One tag per token.
    """
    return [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in doc]
