import os
from pathlib import Path

import pytest

import spacy_biobert


@pytest.mark.skipif(
    os.environ.get("SPACY_BIOBERT_TEST_INSTALLED") != "1",
    reason="only when the README's test command runs against the installed package",
)
def test_tests_run_against_the_installed_package():
    source_tree = Path(__file__).resolve().parent.parent
    assert "site-packages" in Path(spacy_biobert.__file__).parts
    assert Path(spacy_biobert.__file__).resolve().parent != source_tree / "spacy_biobert"
