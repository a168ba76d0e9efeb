from .annotations import Mention, Relation, concept_relations, get_relations, set_relations
from .annotations import install_extensions

install_extensions()

__all__ = [
    "Mention", "Relation", "concept_relations", "get_relations", "set_relations",
    "install_extensions",
]
