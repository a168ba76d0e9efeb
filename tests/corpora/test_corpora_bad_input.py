"""Every kind of bad input gives a coded error naming where and what was expected; with
skip_invalid the bad record is skipped, counted, and the rest is read."""
import json
import re
import shutil
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.corpora import ConversionStats, CorpusError, read_corpus

FIX = Path(__file__).parent.parent / "fixtures" / "corpora"
BAD = FIX / "bad"


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def _utf8_broken(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def bad_pubtator_utf8(tmp_path):
    good = (FIX / "pubtator" / "mini.pubtator").read_bytes().split(b"\n\n")[0] + b"\n\n"
    return _utf8_broken(tmp_path, "latin1.pubtator", good + b"2|t|Caf\xe9ine.\n2|a|x\n")


def bad_ddi_utf8(tmp_path):
    folder = tmp_path / "ddi"
    shutil.copytree(FIX / "ddi", folder)
    data = (FIX / "ddi" / "MedLine" / "1234.xml").read_bytes().replace(b"Ketoconazole raised", b"K\xe9toconazole raised")
    (folder / "MedLine" / "1234.xml").write_bytes(data)
    return folder


def bad_bioc_utf8(tmp_path):
    data = (FIX / "bioc" / "mini.bioc.xml").read_bytes().replace(b"two patients", b"two p\xe4tients")
    return _utf8_broken(tmp_path, "latin1.xml", data)


def bad_iob_utf8(tmp_path):
    return _utf8_broken(tmp_path, "latin1.iob", b"IL-2\tB-DNA\n\nCaf\xe9ine\tO\n\n")


# (format, input, code, reason, location pattern in the message, docs left with skip_invalid)
CASES = [
    ("pubtator", "empty.pubtator", "E101", "empty_file", r"empty\.pubtator'", 0),
    ("pubtator", "truncated.pubtator", "E102", "truncated_document", r"truncated\.pubtator:15\b", 1),
    ("pubtator", "truncated_mention.pubtator", "E102", "malformed_line", r"truncated_mention\.pubtator:17\b", 1),
    ("pubtator", "offset_out_of_range.pubtator", "E103", "offset_out_of_range", r"offset_out_of_range\.pubtator:18\b", 1),
    ("pubtator", "text_mismatch.pubtator", "E104", "text_mismatch", r"text_mismatch\.pubtator:17\b", 1),
    ("pubtator", "unknown_concept.pubtator", "E105", "unknown_mention", r"unknown_concept\.pubtator:19\b.*D999999", 1),
    ("pubtator", bad_pubtator_utf8, "E106", "invalid_utf8", r"latin1\.pubtator:15\b", 1),
    ("ncbi", "empty.pubtator", "E101", "empty_file", r"empty\.pubtator'", 0),
    ("bioc", "bioc_unknown_node.xml", "E105", "unknown_mention", r"<relation id='R1'>.*'44'", 1),
    ("bioc", "bioc_truncated.xml", "E109", "invalid_xml", r"bioc_truncated\.xml:\d+", 0),
    ("bioc", "bioc_offset_out_of_range.xml", "E103", "offset_out_of_range", r"<annotation id='5'>", 1),
    ("bioc", bad_bioc_utf8, "E106", "invalid_utf8", r"latin1\.xml:45\b", 0),
    ("iob", "invalid_tag.iob", "E110", "invalid_tag", r"invalid_tag\.iob:2\b.*'X-DNA'", 0),
    ("iob", "one_column.iob", "E102", "malformed_line", r"one_column\.iob:2\b", 0),
    ("iob", bad_iob_utf8, "E106", "invalid_utf8", r"latin1\.iob:3\b", 1),
    ("chemprot", "chemprot_unknown_arg", "E105", "unknown_mention", r"bad_gold_standard\.tsv:3\b.*'T9'", 1),
    ("ddi", "ddi_broken", "E109", "invalid_xml", r"Broken_ddi\.xml:\d+", 1),
    ("ddi", "ddi_unknown_pair.xml", "E105", "unknown_mention", r"ddi_unknown_pair\.xml:\d+ <pair id='DDI-DrugBank\.d900\.s0\.p0'>.*s0\.e7", 0),
    ("ddi", "ddi_text_mismatch.xml", "E104", "text_mismatch", r"<entity id='DDI-DrugBank\.d900\.s1\.e2'>", 0),
    ("ddi", bad_ddi_utf8, "E106", "invalid_utf8", r"1234\.xml:3\b", 1),
]


def _input(spec, tmp_path):
    return spec(tmp_path) if callable(spec) else BAD / spec


@pytest.mark.parametrize("fmt,spec,code,reason,where,n_left", CASES)
def test_bad_input_raises_coded_error(nlp, tmp_path, fmt, spec, code, reason, where, n_left):
    path = _input(spec, tmp_path)
    with pytest.raises(CorpusError) as exc:
        list(read_corpus(fmt, path, nlp))
    message = str(exc.value)
    assert message.startswith(f"(spacy-biobert) [{code}]"), message
    assert re.search(where, message), message
    assert "Expected" in message
    assert exc.value.reason == reason


@pytest.mark.parametrize("fmt,spec,code,reason,where,n_left", CASES)
def test_skip_invalid_counts_and_goes_on(nlp, tmp_path, fmt, spec, code, reason, where, n_left):
    stats = ConversionStats()
    docs = list(read_corpus(fmt, _input(spec, tmp_path), nlp, skip_invalid=True, stats=stats))
    assert len(docs) == n_left == stats.docs
    assert stats.skipped == {reason: 1}


def test_unknown_format_and_missing_input(nlp, tmp_path):
    with pytest.raises(CorpusError, match=r"\[E107\] Unknown corpus format 'brat'.*pubtator, ncbi"):
        read_corpus("brat", FIX, nlp)
    with pytest.raises(CorpusError, match=r"\[E108\].*nope\.txt' does not exist"):
        read_corpus("pubtator", tmp_path / "nope.txt", nlp)
    with pytest.raises(CorpusError, match=r"\[E108\].*has no \*\.xml files"):
        list(read_corpus("ddi", tmp_path, nlp))
    with pytest.raises(CorpusError, match=r"\[E112\].*relations='some'"):
        list(read_corpus("chemprot", FIX / "chemprot" / "mini_split", nlp, relations="some"))


# --- CLI ------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize("fmt,spec,code,reason,where,n_left", [CASES[1], CASES[5], CASES[9], CASES[16]])
def test_cli_fails_without_partial_output(tmp_path, fmt, spec, code, reason, where, n_left):
    out = tmp_path / "out" / "corpus.spacy"
    summary = tmp_path / "summary.json"
    result = runner.invoke(app, ["convert", str(_input(spec, tmp_path)), str(out), "--format", fmt,
                                 "--summary", str(summary)])
    assert result.exit_code == 1
    assert f"[{code}]" in result.output
    assert not out.exists() and not summary.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []  # no temp file left


@pytest.mark.parametrize("fmt,spec,code,reason,where,n_left", [CASES[1], CASES[16]])
def test_cli_skip_invalid_writes_and_reports(tmp_path, fmt, spec, code, reason, where, n_left):
    out = tmp_path / "corpus.spacy"
    summary = tmp_path / "summary.json"
    result = runner.invoke(app, ["convert", str(_input(spec, tmp_path)), str(out), "--format", fmt,
                                 "--summary", str(summary), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    data = json.loads(summary.read_text())
    assert data["docs"] == n_left and data["skipped"] == {reason: 1}
    assert re.search(rf"skipped: {reason}\s+1", result.output)
    assert out.exists()


def test_cli_wrong_format(tmp_path):
    out = tmp_path / "x.spacy"
    result = runner.invoke(app, ["convert", str(FIX / "pubtator" / "mini.pubtator"), str(out),
                                 "--format", "pubtatorr"])
    assert result.exit_code == 1
    assert "[E107] Unknown corpus format 'pubtatorr'" in result.output
    assert not out.exists()
