from .annotations import Mention, Relation, concept_relations, get_relations, set_relations
from .annotations import install_extensions
from . import candidates, model, pipe, scorer  # noqa: F401  (register the component and its parts)
from .pipe import RelationExtractor
from .scorer import score_relations

install_extensions()

__all__ = [
    "Mention", "Relation", "concept_relations", "get_relations", "set_relations",
    "install_extensions", "RelationExtractor", "score_relations",
]
