import os
from pathlib import Path

import pytest

# The real corpora live beside the checkout (../shared/corpora); SPACY_BIOBERT_CORPORA overrides.
_DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"


def corpora_dir(*parts: str) -> Path:
    """Path to a real corpus file or folder, or skip the test when it is not on this machine."""
    root = Path(os.environ.get("SPACY_BIOBERT_CORPORA", _DEFAULT))
    path = root.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real corpus not available: {path}")
    return path
