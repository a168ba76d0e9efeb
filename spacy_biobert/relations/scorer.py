"""Relation scores at mention level and at concept level, following the official task definitions.

- Mention level (ChemProt, DDI): a predicted relation is correct when its head and tail mentions have
  the same character offsets as a gold relation's and the label matches. Gold mentions are first
  projected onto the predicted doc's tokens (`char_span(..., alignment_mode="expand")`), so a
  tokenizer that does not split at every mention boundary is not counted wrong for it.
- Concept level (BC5CDR CID, BioRED): one (head concept ID, tail concept ID, label) triple per
  document, however many mention pairs express it.

`rel_micro_p/r/f` and `rel_f_per_type` report the mention level when the gold data has mention-level
relations and the concept level otherwise (so for CID they are the official figures);
`rel_mention_*` and `rel_concept_*` report each level explicitly (None where the gold data has no
relations at that level). `eval_labels` restricts the micro-average to the officially evaluated
labels (ChemProt: CPR:3,4,5,6,9).
"""
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from spacy.scorer import PRFScore
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from .annotations import Mention, Relation, concept_relations, get_relations


def _char_key(doc: Doc, mention: Mention, project_to: Optional[Doc] = None) -> Tuple[int, int]:
    span = doc[mention.start:mention.end]
    start, end = span.start_char, span.end_char
    if project_to is not None:
        projected = project_to.char_span(start, end, alignment_mode="expand")
        if projected is not None:
            return projected.start_char, projected.end_char
    return start, end


def _mention_keys(doc: Doc, relations: Iterable[Relation], undirected: bool,
                  project_to: Optional[Doc] = None) -> Set[Tuple]:
    keys = set()
    for rel in relations:
        if rel.level != "mention":
            continue
        head = _char_key(doc, rel.head, project_to)
        tail = _char_key(doc, rel.tail, project_to)
        if undirected and tail < head:
            head, tail = tail, head
        keys.add((head, tail, rel.label))
    return keys


def split_ids(kb_id: str) -> List[str]:
    """Concept IDs of a mention: composite mentions carry "|"-separated IDs; "-1" and "" mean none."""
    return [i for i in kb_id.split("|") if i and i != "-1"]


def _concept_keys(relations: Iterable[Relation], undirected: bool) -> Set[Tuple[str, str, str]]:
    relations = list(relations)
    concept = [r for r in relations if r.level == "concept"]
    if not concept:
        concept = list(concept_relations(r for r in relations if r.level == "mention"))
    keys = set()
    for rel in concept:
        for head in split_ids(rel.head_id):
            for tail in split_ids(rel.tail_id):
                if undirected and tail < head:
                    keys.add((tail, head, rel.label))
                else:
                    keys.add((head, tail, rel.label))
    return keys


def _prf(gold: Dict[str, Set], pred: Dict[str, Set], labels: Optional[Iterable[str]]) -> Dict[str, Any]:
    names = sorted(set(gold) | set(pred)) if labels is None else list(labels)
    micro = PRFScore()
    per_type: Dict[str, Dict[str, float]] = {}
    for name in names:
        score = PRFScore()
        g, p = gold.get(name, set()), pred.get(name, set())
        score.tp += len(g & p)
        score.fp += len(p - g)
        score.fn += len(g - p)
        micro += score
        per_type[name] = {"p": float(score.precision), "r": float(score.recall), "f": float(score.fscore)}
    return {"p": float(micro.precision), "r": float(micro.recall), "f": float(micro.fscore),
            "per_type": per_type}


def score_relations(
    examples: Iterable[Example],
    *,
    eval_labels: Optional[Iterable[str]] = None,
    undirected: bool = False,
    **cfg: Any,
) -> Dict[str, Any]:
    """Score `doc._.relations` of the predicted docs against the reference docs.

    examples (Iterable[Example]): Examples whose predicted docs carry predicted relations.
    eval_labels (Optional[Iterable[str]]): Labels that count (all labels seen if None).
    undirected (bool): Ignore head/tail order (DDI).
    cfg (Any): The component's settings (passed by `Pipe.score`; unused).
    RETURNS (Dict[str, Any]): rel_micro_p/r/f, rel_f_per_type, and the same with rel_mention_ and
        rel_concept_ prefixes. All figures are plain Python floats.
    """
    labels = list(eval_labels) if eval_labels is not None else None
    gold_m: Dict[str, Set] = {}
    pred_m: Dict[str, Set] = {}
    gold_c: Dict[str, Set] = {}
    pred_c: Dict[str, Set] = {}
    has_mention = has_concept = False
    for i, eg in enumerate(examples):
        gold_rels = get_relations(eg.reference)
        pred_rels = get_relations(eg.predicted)
        has_mention = has_mention or any(r.level == "mention" for r in gold_rels)
        # Keys carry the example index: relations are document-level facts.
        for key in _mention_keys(eg.reference, gold_rels, undirected, project_to=eg.predicted):
            gold_m.setdefault(key[-1], set()).add((i, *key))
        for key in _mention_keys(eg.predicted, pred_rels, undirected):
            pred_m.setdefault(key[-1], set()).add((i, *key))
        gold_concepts = _concept_keys(gold_rels, undirected)
        has_concept = has_concept or bool(gold_concepts)
        for key in gold_concepts:
            gold_c.setdefault(key[-1], set()).add((i, *key))
        for key in _concept_keys(pred_rels, undirected):
            pred_c.setdefault(key[-1], set()).add((i, *key))
    scores: Dict[str, Any] = {}
    mention = _prf(gold_m, pred_m, labels)
    concept = _prf(gold_c, pred_c, labels)
    for prefix, result, present in (("rel_mention", mention, has_mention), ("rel_concept", concept, has_concept)):
        for part in ("p", "r", "f"):
            scores[f"{prefix}_micro_{part}"] = result[part] if present else None
        scores[f"{prefix}_f_per_type"] = result["per_type"] if present else None
    primary = concept if has_concept and not has_mention else mention
    for part in ("p", "r", "f"):
        scores[f"rel_micro_{part}"] = primary[part]
    scores["rel_f_per_type"] = primary["per_type"]
    return scores


@registry.scorers("spacy-biobert.relation_scorer.v1")
def make_relation_scorer(
    eval_labels: Optional[List[str]] = None, undirected: bool = False
) -> Callable[..., Dict[str, Any]]:
    """The relation scorer for `biobert_relation_extractor` and `spacy evaluate`.

    eval_labels (Optional[List[str]]): Labels in the micro-average (e.g. ChemProt's CPR:3,4,5,6,9);
        None for all.
    undirected (bool): Score pairs regardless of head/tail order (DDI).
    RETURNS (Callable[..., Dict[str, Any]]): The scorer.
    """

    def scorer(examples: Iterable[Example], **cfg: Any) -> Dict[str, Any]:
        cfg.pop("labels", None)
        return score_relations(examples, eval_labels=eval_labels, undirected=undirected)

    return scorer
