"""scispaCy's rule-based biomedical tokenizer as a registered tokenizer, usable from a config:

    [nlp.tokenizer]
    @tokenizers = "spacy-biobert.SciSpacyTokenizer.v1"

It keeps chemical names, gene symbols and hyphenated compounds ("5-FU", "N-acetyl-p-benzoquinone",
"(+)-catechin", "TNF-alpha-induced") in one token where spaCy's default tokenizer splits them at
every hyphen, so fewer entity boundaries fall inside a token of the *other* kind (see
benchmarks/biomed_text.py for the measured mismatch rates).
"""
from types import SimpleNamespace
from typing import Callable

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import registry


@registry.tokenizers("spacy-biobert.SciSpacyTokenizer.v1")
def create_scispacy_tokenizer() -> Callable[[Language], Tokenizer]:
    """scispaCy's `combined_rule_tokenizer` (prefix, suffix and infix rules tuned for biomedical
    text, scispaCy's abbreviation exceptions such as "e.g." and "Fig.").

    The rules are saved with the pipeline (`Tokenizer.to_disk`), so a trained pipeline tokenizes
    exactly as it did in training. scispaCy is imported when the tokenizer is built, not when this
    module is imported.

    RETURNS (Callable[[Language], Tokenizer]): Builds the tokenizer for a pipeline.
    """

    def make_tokenizer(nlp: Language) -> Tokenizer:
        from scispacy.custom_tokenizer import combined_rule_tokenizer

        # The config system builds the tokenizer inside Language.__init__, before nlp.tokenizer
        # exists; scispaCy only reads the vocab, the language defaults and the default tokenizer's
        # token_match, so hand it those.
        shim = SimpleNamespace(
            vocab=nlp.vocab,
            Defaults=nlp.Defaults,
            tokenizer=SimpleNamespace(token_match=nlp.Defaults.token_match),
        )
        return combined_rule_tokenizer(shim)  # type: ignore[arg-type]

    return make_tokenizer
