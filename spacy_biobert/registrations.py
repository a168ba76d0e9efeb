"""What this package registers with spaCy, by decorator and by entry point, so a test (and
`spacy-biobert info`) can check that the two agree: a name missing from the entry points breaks
`spacy.load` of a packaged pipeline in a process that never imports `spacy_biobert`."""
from importlib.metadata import entry_points
from typing import Dict, Set

# spaCy registry name -> entry point group.
REGISTRIES = {
    "factories": "spacy_factories",
    "architectures": "spacy_architectures",
    "misc": "spacy_misc",
    "readers": "spacy_readers",
    "scorers": "spacy_scorers",
    "span_getters": "spacy_span_getters",
    "tokenizers": "spacy_tokenizers",
    "callbacks": "spacy_callbacks",
    "loggers": "spacy_loggers",
    "batchers": "spacy_batchers",
}
_PACKAGE = "spacy_biobert"


def registered_names() -> Dict[str, Set[str]]:
    """Names registered by decorators in `spacy_biobert`, per entry point group.

    RETURNS (Dict[str, Set[str]]): Entry point group -> names.
    """
    import catalogue
    import spacy_biobert  # noqa: F401  (runs the decorators)
    import spacy_transformers.util  # noqa: F401  (adds registry.span_getters)
    from spacy.util import registry

    found: Dict[str, Set[str]] = {}
    for reg_name, group in REGISTRIES.items():
        reg = getattr(registry, reg_name, None)
        if reg is None:
            continue
        # Only what decorators registered in this process: Registry.get_all() would also load the
        # entry points, which is the other side of the comparison.
        for key, func in catalogue._get_all(reg.namespace).items():
            name = key[-1]
            module = getattr(func, "__module__", "") or ""
            if module == _PACKAGE or module.startswith(_PACKAGE + "."):
                found.setdefault(group, set()).add(name)
    return found


def entry_point_names() -> Dict[str, Set[str]]:
    """Names this distribution declares as spaCy entry points, per group.

    RETURNS (Dict[str, Set[str]]): Entry point group -> names.
    """
    found: Dict[str, Set[str]] = {}
    for group in REGISTRIES.values():
        for ep in entry_points(group=group):
            if ep.value.split(":")[0].split(".")[0] == _PACKAGE:
                found.setdefault(group, set()).add(ep.name)
    return found
