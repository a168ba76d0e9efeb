"""The one API for relation annotations on a Doc: `doc._.relations`.

Readers write it, the relation extractor predicts it, scorers and writers read it. Two levels:

- mention level (ChemProt, DDI): `head` and `tail` are `Mention`s (token offsets into the doc);
- concept level (BC5CDR CID, BioRED): `head_id` and `tail_id` are concept IDs, and
  `head_mentions` / `tail_mentions` list the mentions of each concept in the document.

Relations are stored as plain dicts in `doc.user_data`, so they survive `DocBin(store_user_data=True)`
and pickling. Reading `doc._.relations` gives a tuple of frozen `Relation`s; to change them, assign a new
sequence (`doc._.relations = [*doc._.relations, rel]`).
"""
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from spacy.tokens import Doc, Span

USER_DATA_KEY = "spacy_biobert.relations"


@dataclass(frozen=True)
class Mention:
    """A mention by token offsets [start, end) with its label and concept ID ("" if none)."""

    start: int
    end: int
    label: str
    kb_id: str = ""

    @classmethod
    def from_span(cls, span: Span) -> "Mention":
        return cls(span.start, span.end, span.label_, span.kb_id_)

    def span(self, doc: Doc) -> Span:
        """The mention as a Span of `doc`, with label and kb_id set."""
        return Span(doc, self.start, self.end, label=self.label, kb_id=self.kb_id)

    def to_dict(self) -> Dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label, "kb_id": self.kb_id}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Mention":
        return cls(int(data["start"]), int(data["end"]), str(data["label"]), str(data.get("kb_id", "")))


@dataclass(frozen=True)
class Relation:
    """A typed relation between two mentions, or between two concepts of one document.

    label (str): The relation type, e.g. "CID", "CPR:4", "mechanism".
    head (Optional[Mention]): Head mention (mention level).
    tail (Optional[Mention]): Tail mention (mention level).
    head_id (str): Head concept ID (concept level), e.g. a MeSH ID.
    tail_id (str): Tail concept ID (concept level).
    head_mentions (Tuple[Mention, ...]): Mentions of the head concept (concept level).
    tail_mentions (Tuple[Mention, ...]): Mentions of the tail concept (concept level).
    score (float): Confidence; 1.0 for gold relations. Always a plain Python float.
    properties (Dict[str, str]): Extra attributes such as BioRED's novelty flag.
    """

    label: str
    head: Optional[Mention] = None
    tail: Optional[Mention] = None
    head_id: str = ""
    tail_id: str = ""
    head_mentions: Tuple[Mention, ...] = ()
    tail_mentions: Tuple[Mention, ...] = ()
    score: float = 1.0
    properties: Dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        # Plain floats only: numpy/cupy scalars break msgpack and JSON (a known rel_component pitfall).
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "head_mentions", tuple(self.head_mentions))
        object.__setattr__(self, "tail_mentions", tuple(self.tail_mentions))

    @property
    def level(self) -> str:
        """"mention" when head and tail mentions are set, else "concept"."""
        return "mention" if self.head is not None and self.tail is not None else "concept"

    def key(self) -> Tuple:
        """What identifies the relation for scoring at its level (the score is not part of it)."""
        if self.level == "mention":
            return (self.head.start, self.head.end, self.tail.start, self.tail.end, self.label)
        return (self.head_id, self.tail_id, self.label)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "label": self.label,
            "head": self.head.to_dict() if self.head is not None else None,
            "tail": self.tail.to_dict() if self.tail is not None else None,
            "head_id": self.head_id,
            "tail_id": self.tail_id,
            "head_mentions": [m.to_dict() for m in self.head_mentions],
            "tail_mentions": [m.to_dict() for m in self.tail_mentions],
            "score": self.score,
            "properties": dict(self.properties),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Relation":
        head, tail = data.get("head"), data.get("tail")
        return cls(
            label=str(data["label"]),
            head=Mention.from_dict(head) if head else None,
            tail=Mention.from_dict(tail) if tail else None,
            head_id=str(data.get("head_id", "")),
            tail_id=str(data.get("tail_id", "")),
            head_mentions=tuple(Mention.from_dict(m) for m in data.get("head_mentions", ())),
            tail_mentions=tuple(Mention.from_dict(m) for m in data.get("tail_mentions", ())),
            score=float(data.get("score", 1.0)),
            properties={str(k): str(v) for k, v in dict(data.get("properties") or {}).items()},
        )


def get_relations(doc: Doc) -> Tuple[Relation, ...]:
    """The relations stored on `doc` (empty tuple if none)."""
    return tuple(Relation.from_dict(d) for d in doc.user_data.get(USER_DATA_KEY, ()))


def set_relations(doc: Doc, relations: Iterable[Union[Relation, Dict[str, Any]]]) -> None:
    """Replace the relations stored on `doc`; accepts `Relation`s or their dicts."""
    rels = [r if isinstance(r, Relation) else Relation.from_dict(r) for r in relations]
    for rel in rels:
        for mention in (rel.head, rel.tail, *rel.head_mentions, *rel.tail_mentions):
            if mention is not None and not (0 <= mention.start < mention.end <= len(doc)):
                raise ValueError(
                    f"(spacy-biobert) Relation '{rel.label}' names mention tokens "
                    f"[{mention.start}, {mention.end}) outside the doc of {len(doc)} tokens."
                )
    doc.user_data[USER_DATA_KEY] = [r.to_dict() for r in rels]


def concept_relations(relations: Iterable[Relation]) -> Tuple[Relation, ...]:
    """Collapse relations to one per (head concept, tail concept, label), keeping the best score.

    Mention-level relations contribute through their mentions' `kb_id`s (mentions without an ID are
    left out: a concept pair needs both IDs). This is the document-level view BC5CDR CID is scored on.
    """
    best: Dict[Tuple[str, str, str], Relation] = {}
    for rel in relations:
        if rel.level == "concept":
            key, cand = (rel.head_id, rel.tail_id, rel.label), rel
        else:
            if not rel.head.kb_id or not rel.tail.kb_id:
                continue
            key = (rel.head.kb_id, rel.tail.kb_id, rel.label)
            cand = Relation(
                rel.label, head_id=key[0], tail_id=key[1], head_mentions=(rel.head,),
                tail_mentions=(rel.tail,), score=rel.score, properties=rel.properties,
            )
        prev = best.get(key)
        if prev is None:
            best[key] = cand
        else:
            merged = Relation(
                rel.label, head_id=key[0], tail_id=key[1],
                head_mentions=tuple(dict.fromkeys(prev.head_mentions + cand.head_mentions)),
                tail_mentions=tuple(dict.fromkeys(prev.tail_mentions + cand.tail_mentions)),
                score=max(prev.score, cand.score), properties={**cand.properties, **prev.properties},
            )
            best[key] = merged
    return tuple(best.values())


def install_extensions() -> None:
    """Add `doc._.relations` (getter/setter over user_data). Safe to call more than once."""
    if not Doc.has_extension("relations"):
        Doc.set_extension("relations", getter=get_relations, setter=set_relations)
