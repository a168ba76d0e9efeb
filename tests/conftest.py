import sys
from pathlib import Path

import pytest

# So test modules in subfolders can `from util import corpora_dir`.
sys.path.insert(0, str(Path(__file__).parent))

from spacy_biobert.testing import make_tiny_bert


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False, help="also run slow tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """Path of a tiny cased BERT (no tokenizer_config.json, like BioBERT)."""
    return str(make_tiny_bert(tmp_path_factory.mktemp("tiny_bert_cased"), cased=True))


@pytest.fixture(scope="session")
def tiny_bert_uncased(tmp_path_factory):
    """Path of a tiny uncased BERT."""
    return str(make_tiny_bert(tmp_path_factory.mktemp("tiny_bert_uncased"), cased=False))


@pytest.fixture
def tiny_trf_config(tiny_bert):
    """`add_pipe("transformer", config=...)` settings for the tiny cased BERT."""
    return {
        "model": {
            "@architectures": "spacy-biobert.BioBertTransformer.v1",
            "name": tiny_bert,
            "get_spans": {
                "@span_getters": "spacy-biobert.wordpiece_strided_spans.v1",
                "window": 64,
                "stride": 48,
            },
        }
    }
