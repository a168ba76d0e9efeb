"""Make a document consistent about its abbreviations: "5-fluorouracil (5-FU) ... 5-FU" gets the
same label and concept ID on the long form and on every occurrence of the short form.

NER models often tag the long form and miss the bare short form later on (or the other way
round), and document-level relation extraction then loses the concept; one detected definition
fixes every mention in the document.
"""
from collections import Counter
from typing import Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from .abbreviations import abbreviation_pairs

_Key = Tuple[int, int]


class AbbreviationPropagator:
    """Copy label and `kb_id` between the long form and the short forms of each detected
    abbreviation, in `doc.ents` and (if present) in `doc.spans[spans_key]`.

    The long form is authoritative: when it is an entity, every short-form occurrence takes its
    label, and its ID (or, if it has none, the short forms' most common ID). When only short forms
    are entities, the long form and the other occurrences take the short forms' most common label
    and ID. A span is only added where it overlaps no existing entity (so `doc.ents` stays valid
    and nothing already predicted is cut); a span that already exists with exactly the same
    boundaries is relabelled.
    """

    def __init__(self, name: str = "biobert_abbreviation_propagator", *,
                 spans_key: Optional[str] = "sc", overwrite_ids: bool = True) -> None:
        self.name = name
        self.spans_key = spans_key
        self.overwrite_ids = overwrite_ids

    def __call__(self, doc: Doc) -> Doc:
        pairs = abbreviation_pairs(doc)
        if not pairs:
            return doc
        groups: Dict[_Key, List[_Key]] = {}
        for short, long_form in pairs:
            groups.setdefault((long_form.start, long_form.end), []).append((short.start, short.end))
        ents = {(e.start, e.end): (e.label_, e.kb_id_) for e in doc.ents}
        ents = self._propagate(groups, ents, len(doc))
        doc.set_ents([Span(doc, s, e, label=lab, kb_id=kb) for (s, e), (lab, kb) in sorted(ents.items())])
        if self.spans_key and self.spans_key in doc.spans:
            group = doc.spans[self.spans_key]
            spans = {(s.start, s.end): (s.label_, s.kb_id_) for s in group}
            spans = self._propagate(groups, spans, len(doc))
            doc.spans[self.spans_key] = SpanGroup(
                doc, name=self.spans_key, attrs=dict(group.attrs),
                spans=[Span(doc, s, e, label=lab, kb_id=kb) for (s, e), (lab, kb) in sorted(spans.items())],
            )
        return doc

    def _propagate(self, groups: Dict[_Key, List[_Key]], spans: Dict[_Key, Tuple[str, str]],
                   n_tokens: int) -> Dict[_Key, Tuple[str, str]]:
        spans = dict(spans)
        taken = [0] * n_tokens  # tokens covered by some span, to refuse overlapping additions
        for s, e in spans:
            for i in range(s, e):
                taken[i] += 1
        for long_key, short_keys in groups.items():
            short_tags = [spans[k] for k in short_keys if k in spans]
            anchor = _anchor(long_key, spans)
            if anchor is not None:
                label, kb_id = spans[anchor]
                if not kb_id:
                    kb_id = _most_common([k for lab, k in short_tags if k and lab == label])
            elif short_tags:
                label = _most_common([lab for lab, _ in short_tags])
                kb_id = _most_common([k for lab, k in short_tags if lab == label and k])
            else:
                continue
            for key in [anchor or long_key, *short_keys]:
                if key in spans:
                    old_kb = spans[key][1]
                    new_kb = kb_id if (kb_id and (self.overwrite_ids or not old_kb)) else old_kb
                    spans[key] = (label, new_kb)
                elif not any(taken[i] for i in range(*key)):
                    spans[key] = (label, kb_id)
                    for i in range(*key):
                        taken[i] += 1
        return spans


def _anchor(long_key: _Key, spans: Dict[_Key, Tuple[str, str]]) -> Optional[_Key]:
    """The span standing for the long form: the span with exactly its boundaries, else the longest
    span inside it that ends with it ("renal failure" in the detected "acute renal failure"), as
    the detector's long form can take in a word the annotation leaves out."""
    if long_key in spans:
        return long_key
    inside = [k for k in spans if long_key[0] <= k[0] and k[1] == long_key[1]]
    return min(inside, default=None)


def _most_common(values: List[str]) -> str:
    """The most frequent value, first seen winning ties; "" for none."""
    if not values:
        return ""
    counts = Counter(values)
    return max(values, key=lambda v: (counts[v], -values.index(v)))


@Language.factory(
    "biobert_abbreviation_propagator",
    requires=["doc.ents"],
    assigns=["doc.ents"],
    default_config={"spans_key": "sc", "overwrite_ids": True},
)
def make_abbreviation_propagator(
    nlp: Language, name: str, spans_key: Optional[str], overwrite_ids: bool
) -> AbbreviationPropagator:
    """Give long and short forms of each abbreviation the same label and concept ID.

    Needs abbreviations on the doc: put `biobert_abbreviation_detector` (or scispaCy's
    `abbreviation_detector`) before it. Put `biobert_entity_normalizer` before it to spread the
    IDs too, or after it to normalise the added mentions.

    nlp (Language): The pipeline.
    name (str): The component name.
    spans_key (Optional[str]): Also make `doc.spans[spans_key]` consistent when the doc has it
        (spancat pipelines, gold corpora); null for doc.ents only.
    overwrite_ids (bool): Replace differing IDs on short forms with the long form's (else only
        fill in missing ones).
    RETURNS (AbbreviationPropagator): The component.
    """
    return AbbreviationPropagator(name, spans_key=spans_key, overwrite_ids=overwrite_ids)
