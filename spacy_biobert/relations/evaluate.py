"""Relation evaluation end to end (entities predicted by the pipeline) and on gold entities
(relation-only: the reference mentions are put on the predicted docs and the entity recognizers are
switched off)."""
from typing import Any, Dict, Iterable, List, Optional

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example

# Components that write doc.ents / doc.spans and must not overwrite gold mentions.
MENTION_FACTORIES = {"ner", "beam_ner", "spancat", "spancat_singlelabel", "entity_ruler", "span_ruler"}


def relation_components(nlp: Language) -> List[str]:
    """Names of the relation extractors in `nlp`."""
    return [name for name in nlp.pipe_names
            if nlp.get_pipe_meta(name).factory == "biobert_relation_extractor"]


def with_gold_mentions(example: Example, spans_key: Optional[str] = None) -> Example:
    """A copy of `example` whose predicted doc (fresh, same tokens) carries the reference mentions,
    mapped through character offsets (expanding to the predicted tokens).

    example (Example): The example.
    spans_key (Optional[str]): Also fill `doc.spans[spans_key]` with all reference mentions there.
    RETURNS (Example): The new example.
    """
    pred = example.predicted
    doc = Doc(pred.vocab, words=[t.text for t in pred], spaces=[bool(t.whitespace_) for t in pred])
    ents: List[Span] = []
    taken = set()
    for ent in example.reference.ents:
        span = doc.char_span(ent.start_char, ent.end_char, label=ent.label_, kb_id=ent.kb_id_,
                             alignment_mode="expand")
        # Expansion can make two mentions overlap on the predicted tokens; keep the first.
        if span is not None and not taken.intersection(range(span.start, span.end)):
            ents.append(span)
            taken.update(range(span.start, span.end))
    doc.ents = ents
    if spans_key is not None and spans_key in example.reference.spans:
        group = [doc.char_span(s.start_char, s.end_char, label=s.label_, kb_id=s.kb_id_,
                               alignment_mode="expand") for s in example.reference.spans[spans_key]]
        doc.spans[spans_key] = [s for s in group if s is not None]
    return Example(doc, example.reference)


def evaluate_relations(
    nlp: Language,
    examples: Iterable[Example],
    *,
    gold_entities: bool = False,
    batch_size: Optional[int] = None,
) -> Dict[str, Any]:
    """Run the pipeline on the examples and score it (`nlp.evaluate`).

    nlp (Language): A pipeline with a `biobert_relation_extractor`.
    examples (Iterable[Example]): Devel examples with gold mentions and relations.
    gold_entities (bool): Relation-only evaluation: gold mentions on the predicted docs, entity
        recognizers disabled. False: end to end, from raw text.
    batch_size (Optional[int]): Batch size for `nlp.pipe`.
    RETURNS (Dict[str, Any]): The scores (relation figures as in `spacy-biobert.relation_scorer.v1`).
    """
    examples = list(examples)
    if not gold_entities:
        return nlp.evaluate(examples, batch_size=batch_size)
    rel_names = relation_components(nlp)
    keys = {nlp.get_pipe(name).cfg.get("spans_key") for name in rel_names} - {None}
    key = next(iter(keys), None)
    gold = [with_gold_mentions(eg, key) for eg in examples]
    disable = [name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory in MENTION_FACTORIES]
    with nlp.select_pipes(disable=disable):
        return nlp.evaluate(gold, batch_size=batch_size)
