"""scispaCy's entity linker (TF-IDF over a knowledge base such as MeSH or UMLS) as a fallback for
mentions the dictionary cannot place, with a clear coded error when its knowledge base cannot be
loaded (scispaCy downloads it on first use; an offline machine without the cache cannot)."""
from typing import List, Optional, Tuple

from ..errors import make_error


def known_linkers() -> List[str]:
    """Names scispaCy can load ("umls", "mesh", "rxnorm", "go", "hpo")."""
    from scispacy.candidate_generation import DEFAULT_PATHS

    return sorted(DEFAULT_PATHS)


class SciSpacyLinker:
    """Loads scispaCy's candidate generator for `name` and returns its best concept for a text."""

    def __init__(self, name: str, *, threshold: float = 0.8, k: int = 30) -> None:
        names = known_linkers()
        # scispaCy silently falls back to UMLS for an unknown name; refuse instead.
        if name not in names:
            raise make_error("E405", setting="linker_name", value=repr(name),
                             expected=f"one of {names} or null")
        self.name = name
        self.threshold = threshold
        self.k = k
        try:
            from scispacy.candidate_generation import CandidateGenerator

            self.generator = CandidateGenerator(name=name)
        except (OSError, ValueError, EOFError) as err:
            # requests' ConnectionError and missing-file errors are OSErrors.
            from scispacy.file_cache import DATASET_CACHE

            cause = " ".join(str(err).split())[:300]
            raise make_error("E404", name=name, cache=DATASET_CACHE, cause=cause) from err

    def link(self, texts: List[str]) -> List[Optional[Tuple[str, float]]]:
        """The best (concept ID, score) per text, or None below the threshold.

        texts (List[str]): Mention texts.
        RETURNS (List[Optional[Tuple[str, float]]]): One result per text.
        """
        if not texts:
            return []
        out: List[Optional[Tuple[str, float]]] = []
        for candidates in self.generator(texts, self.k):
            best = max(((c.concept_id, max(c.similarities)) for c in candidates),
                       key=lambda x: x[1], default=None)
            out.append(best if best is not None and best[1] >= self.threshold else None)
        return out
