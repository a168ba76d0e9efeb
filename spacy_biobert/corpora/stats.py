"""Conversion statistics and the corpus error type shared by every reader and writer."""
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from spacy.tokens import Doc, Span

from ..errors import BioBertError, Errors
from ..relations.annotations import get_relations

# Span group that holds every gold mention (spancat's default key).
SPANS_KEY = "sc"


def doc_mentions(doc: Doc) -> List[Span]:
    """The mentions a writer or counter should see: `doc.spans["sc"]` in its order, then any
    entity of `doc.ents` not already there. Reader docs have ents within "sc"; docs annotated by a
    pipeline usually have only ents (their "sc" group may exist but be empty).

    doc (Doc): The document.
    RETURNS (List[Span]): The mentions.
    """
    spans = list(doc.spans[SPANS_KEY]) if SPANS_KEY in doc.spans else []
    seen = {(s.start, s.end, s.label) for s in spans}
    spans.extend(e for e in doc.ents if (e.start, e.end, e.label) not in seen)
    return spans


class CorpusError(BioBertError):
    """A coded corpus error that also says which `skipped` reason it counts under.

    With `skip_invalid=True` a reader catches it, skips the record (a document; a whole file for
    file-level problems) and counts `reason`; otherwise it propagates to the caller.
    """

    def __init__(self, code: str, reason: str, **kwargs: Any) -> None:
        self.reason = reason
        super().__init__(code, getattr(Errors, code).format(**kwargs))


@dataclass
class ConversionStats:
    """What a conversion read, skipped and wrote.

    docs (int): Documents produced.
    entities (Counter): Mentions (`doc_mentions`: doc.spans["sc"] plus any other doc.ents) per label.
    relations (Counter): Relations (doc._.relations) per label.
    skipped (Counter): Skipped records per reason (only with skip_invalid=True).
    overlapping (int): Mentions left out of doc.ents because they overlap another mention (they
        stay in doc.spans["sc"]).
    other (Counter): Further facts worth reporting that are not entities or relations, such as
        BioC composite-mention parts or DDI negative pairs.
    """

    docs: int = 0
    entities: Counter = field(default_factory=Counter)
    relations: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    overlapping: int = 0
    other: Counter = field(default_factory=Counter)

    def add_doc(self, doc: Doc) -> None:
        """Count one converted document.

        doc (Doc): A document made by one of the readers.
        """
        self.docs += 1
        mentions = doc_mentions(doc)
        for span in mentions:
            self.entities[span.label_] += 1
        self.overlapping += len(mentions) - len(doc.ents)
        for rel in get_relations(doc):
            self.relations[rel.label] += 1

    def skip(self, reason: str, n: int = 1) -> None:
        """Count `n` skipped records under `reason`."""
        self.skipped[reason] += n

    def to_dict(self) -> Dict[str, Any]:
        """The summary JSON written by `spacy-biobert convert --summary`.

        RETURNS (Dict[str, Any]): {"docs": int, "entities": {label: n}, "relations": {label: n},
            "skipped": {reason: n}}.
        """
        return {
            "docs": self.docs,
            "entities": dict(sorted(self.entities.items())),
            "relations": dict(sorted(self.relations.items())),
            "skipped": dict(sorted(self.skipped.items())),
        }

    def print_table(self, title: Optional[str] = None) -> None:
        """Print the summary as wasabi tables."""
        from wasabi import msg

        if title:
            msg.divider(title)
        rows = [("docs", self.docs)]
        rows += [(f"entities: {k}", v) for k, v in sorted(self.entities.items())]
        rows.append(("entities (total)", sum(self.entities.values())))
        rows.append(("entities overlapping (kept in spans, not in ents)", self.overlapping))
        rows += [(f"relations: {k}", v) for k, v in sorted(self.relations.items())]
        rows.append(("relations (total)", sum(self.relations.values())))
        rows += [(f"skipped: {k}", v) for k, v in sorted(self.skipped.items())]
        rows.append(("skipped (total)", sum(self.skipped.values())))
        rows += [(k, v) for k, v in sorted(self.other.items())]
        width = max(len(str(label)) for label, _ in rows)
        msg.table(rows, header=("", "count"), divider=True, aligns=("l", "r"),
                  widths=(width, max(5, *(len(str(n)) for _, n in rows))))
