"""Which entity pairs the relation extractor scores.

Scoring every ordered pair of mentions grows quadratically: a full-text document with 300 mentions
has ~90,000 of them. The generator keeps only pairs whose (head label, tail label) was seen in a
relation of the training data (or is listed in the config), within a maximum distance in tokens and
sentences, and never more than `max_pairs` per document (the nearest ones win), so time and memory
per document stay bounded however many mentions it has.
"""
from typing import Iterable, List, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc, Span
from spacy.util import registry

from ..errors import make_error

LabelPair = Tuple[str, str]


def _sentence_index(doc: Doc) -> Optional[List[int]]:
    """Sentence number of each token, or None when the doc has no sentence boundaries."""
    if len(doc) == 0 or not doc.has_annotation("SENT_START"):
        return None
    index, current = [], -1
    for token in doc:
        if token.is_sent_start or token.i == 0:
            current += 1
        index.append(current)
    return index


def _gap(a: Span, b: Span) -> int:
    """Tokens strictly between two mentions (0 when they touch or overlap)."""
    return max(0, max(a.start, b.start) - min(a.end, b.end))


class RelationCandidates:
    """Generate candidate (head, tail) mention pairs for a document.

    max_tokens (Optional[int]): Largest gap in tokens between head and tail; None for no limit.
    max_sentences (Optional[int]): Largest distance in sentences (0 = same sentence only); None for
        no limit, as document-level corpora (BC5CDR CID) need. Ignored for docs without sentence
        boundaries.
    max_pairs (int): At most this many pairs per document; when there are more, the nearest are kept.
    text_order (bool): Only pairs whose head comes before the tail in the text (undirected relations
        such as DDI's, annotated between the first and second mention).
    allowed_pairs (Optional[Sequence[Sequence[str]]]): Fixed (head label, tail label) pairs. None to
        use the pairs learned from the training data by the component.
    """

    def __init__(
        self,
        *,
        max_tokens: Optional[int] = None,
        max_sentences: Optional[int] = None,
        max_pairs: int = 1000,
        text_order: bool = False,
        allowed_pairs: Optional[Sequence[Sequence[str]]] = None,
    ) -> None:
        for name, value, minimum in (("max_tokens", max_tokens, 0), ("max_sentences", max_sentences, 0),
                                     ("max_pairs", max_pairs, 1)):
            if value is not None and (not isinstance(value, int) or value < minimum):
                raise make_error("E203", name=name, value=repr(value), minimum=f">= {minimum}")
        self.max_tokens = max_tokens
        self.max_sentences = max_sentences
        self.max_pairs = max_pairs
        self.text_order = text_order
        self.allowed_pairs: Optional[Set[LabelPair]] = None
        if allowed_pairs is not None:
            self.allowed_pairs = {(str(h), str(t)) for h, t in allowed_pairs}

    def __call__(
        self,
        doc: Doc,
        mentions: Sequence[Span],
        allowed: Optional[Iterable[LabelPair]] = None,
        sentences: Optional[Sequence[int]] = None,
    ) -> List[Tuple[Span, Span]]:
        """Candidate pairs among `mentions` of `doc`, nearest first then in text order.

        doc (Doc): The document.
        mentions (Sequence[Span]): Its mentions (entities or a span group).
        allowed (Optional[Iterable[Tuple[str, str]]]): Learned (head label, tail label) pairs; the
            generator's own `allowed_pairs`, if set, take precedence. None or empty allows any pair.
        sentences (Optional[Sequence[int]]): Sentence number of each token of `doc`, overriding the
            doc's own boundaries (training passes the gold document's sentences).
        RETURNS (List[Tuple[Span, Span]]): At most `max_pairs` (head, tail) pairs.
        """
        if len(mentions) < 2:
            return []
        allowed_set = self.allowed_pairs if self.allowed_pairs is not None else (
            set(map(tuple, allowed)) if allowed else None
        )
        sent = None
        if self.max_sentences is not None:
            sent = list(sentences) if sentences is not None else _sentence_index(doc)
        by_label = {}
        for m in mentions:
            by_label.setdefault(m.label_, []).append(m)
        label_pairs = (
            [(h, t) for h in by_label for t in by_label if allowed_set is None or (h, t) in allowed_set]
        )
        scored: List[Tuple[int, int, int, int, int, Span, Span]] = []
        for head_label, tail_label in label_pairs:
            for head in by_label[head_label]:
                for tail in by_label[tail_label]:
                    if head.start == tail.start and head.end == tail.end:
                        continue
                    if self.text_order and (head.start, head.end) > (tail.start, tail.end):
                        continue
                    gap = _gap(head, tail)
                    if self.max_tokens is not None and gap > self.max_tokens:
                        continue
                    if sent is not None and abs(sent[head.start] - sent[tail.start]) > self.max_sentences:
                        continue
                    scored.append((gap, head.start, head.end, tail.start, tail.end, head, tail))
        if len(scored) > self.max_pairs:
            # Nearest pairs first: they hold most relations, and a fixed cap bounds memory.
            scored.sort(key=lambda item: item[:5])
            scored = scored[: self.max_pairs]
        scored.sort(key=lambda item: item[1:5])
        return [(item[5], item[6]) for item in scored]


@registry.misc("spacy-biobert.relation_candidates.v1")
def make_relation_candidates(
    max_tokens: Optional[int] = None,
    max_sentences: Optional[int] = None,
    max_pairs: int = 1000,
    text_order: bool = False,
    allowed_pairs: Optional[List[List[str]]] = None,
) -> RelationCandidates:
    """Candidate entity pairs for `biobert_relation_extractor`.

    max_tokens (Optional[int]): Largest gap in tokens between the two mentions; None for no limit.
    max_sentences (Optional[int]): Largest distance in sentences (0 = same sentence); None for no
        limit (document-level corpora such as BC5CDR CID, where many pairs cross sentences).
    max_pairs (int): Bound on pairs per document (nearest kept), which bounds time and memory.
    text_order (bool): Keep only pairs whose head precedes the tail (undirected relations, e.g. DDI).
    allowed_pairs (Optional[List[List[str]]]): Fixed [head label, tail label] pairs; None (default)
        learns them from the relations in the training data at `initialize`.
    RETURNS (RelationCandidates): The generator.
    """
    return RelationCandidates(
        max_tokens=max_tokens, max_sentences=max_sentences, max_pairs=max_pairs,
        text_order=text_order, allowed_pairs=allowed_pairs,
    )
