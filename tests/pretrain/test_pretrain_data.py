"""Reading raw text, packing it into blocks and whole-word masking."""
import pytest
import spacy
import torch
from spacy.tokens import DocBin
from transformers import AutoTokenizer

from spacy_biobert.errors import BioBertError
from spacy_biobert.pretrain import TextStats, read_texts
from spacy_biobert.pretrain.masking import WholeWordMasker
from spacy_biobert.pretrain.packing import pack_texts

PUBTATOR = """227508|t|Naloxone reverses the antihypertensive effect of clonidine.
227508|a|In unanesthetized, spontaneously hypertensive rats the decrease in blood pressure was reversed.
227508\t0\t8\tNaloxone\tChemical\tD009270
227508\tCID\tD008750\tD007022

354896|t|Lidocaine-induced cardiac asystole.
354896|a|Intravenous administration of a single 50 mg bolus of lidocaine.
354896\t0\t9\tLidocaine\tChemical\tD008012
"""


def test_read_plain_text_blank_line_documents(tmp_path):
    (tmp_path / "a.txt").write_text("First line\nsame doc.\n\n\nSecond doc.\n", encoding="utf8")
    assert read_texts([tmp_path / "a.txt"]) == ["First line same doc.", "Second doc."]


def test_read_jsonl(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "One."}\n\n{"text": "Two.", "id": 2}\n', encoding="utf8")
    assert read_texts([tmp_path / "a.jsonl"]) == ["One.", "Two."]


@pytest.mark.parametrize("name", ["corpus.PubTator", "CDR.PubTator.txt", "x.pubtator"])
def test_read_pubtator_titles_and_abstracts(tmp_path, name):
    # Detected by content whatever the suffix; annotation and relation lines are ignored.
    (tmp_path / name).write_text(PUBTATOR, encoding="utf8")
    texts = read_texts([tmp_path / name])
    assert texts == [
        "Naloxone reverses the antihypertensive effect of clonidine. In unanesthetized, "
        "spontaneously hypertensive rats the decrease in blood pressure was reversed.",
        "Lidocaine-induced cardiac asystole. Intravenous administration of a single 50 mg bolus of lidocaine.",
    ]


def test_read_docbin_and_directory(tmp_path):
    nlp = spacy.blank("en")
    DocBin(docs=[nlp("Doc one."), nlp("Doc two.")]).to_disk(tmp_path / "d.spacy")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("Text three.", encoding="utf8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf8")
    stats = TextStats()
    texts = read_texts([tmp_path], stats=stats)
    assert texts == ["Doc one.", "Doc two.", "Text three."]
    assert stats.n_docs == 3
    assert [why for _, why in stats.skipped] == ["unknown suffix '.md'"]


def test_bad_inputs_give_coded_errors(tmp_path):
    with pytest.raises(BioBertError, match=r"\[E502\].*missing\.txt"):
        read_texts([tmp_path / "missing.txt"])
    (tmp_path / "a.jsonl").write_text('{"text": "ok"}\n{"txt": "no"}\n', encoding="utf8")
    with pytest.raises(BioBertError, match=r"\[E503\].*a\.jsonl:2: no string field 'text'"):
        read_texts([tmp_path / "a.jsonl"])
    (tmp_path / "b.jsonl").write_text("{not json\n", encoding="utf8")
    with pytest.raises(BioBertError, match=r"\[E503\].*b\.jsonl:1: invalid JSON"):
        read_texts([tmp_path / "b.jsonl"])
    (tmp_path / "c.spacy").write_bytes(b"not a docbin")
    with pytest.raises(BioBertError, match=r"\[E507\].*c\.spacy"):
        read_texts([tmp_path / "c.spacy"])
    with pytest.raises(BioBertError, match=r"\[E505\].*--format"):
        read_texts([tmp_path / "a.jsonl"], fmt="xml")


def test_pack_keeps_every_token_in_full_blocks(tiny_bert):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert, do_lower_case=False)
    texts = ["Cisplatin induced nephrotoxicity in rats.", "Naloxone reverses the effect of clonidine."] * 5
    blocks = pack_texts(tokenizer, texts, 16)
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    n_ids = sum(len(x) for x in ids)
    assert blocks.n_tokens == n_ids
    assert blocks.input_ids.shape[1] == 16
    assert (blocks.input_ids[:, 0] == tokenizer.cls_token_id).all()
    # Every block but the last is full: no padding is trained on.
    assert blocks.attention_mask[:-1].all()
    # The stream of ordinary tokens is the documents' tokens in order.
    stream = blocks.input_ids[blocks.maskable].tolist()
    assert stream == [t for x in ids for t in x]
    with pytest.raises(BioBertError, match=r"\[E505\]"):
        pack_texts(tokenizer, texts, 4)


def test_whole_word_masking(tiny_bert):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert, do_lower_case=False)
    # "Cisplatinxyz" and "nephrotoxicityq" split into several pieces: each must be masked whole.
    texts = ["Cisplatinxyz induced nephrotoxicityq in rats and mice with acute kidney injury ."] * 20
    blocks = pack_texts(tokenizer, texts, 64)
    assert (blocks.maskable & ~blocks.word_starts).sum() > 20  # there are multi-piece words
    masker = WholeWordMasker(tokenizer.mask_token_id, len(tokenizer), 0.15)
    gen = torch.Generator().manual_seed(0)
    out = masker(blocks.input_ids, blocks.word_starts, blocks.maskable, gen)
    predicted = out["labels"] != -100
    assert not (predicted & ~blocks.maskable).any()  # never [CLS], [SEP] or padding
    share = predicted.sum().item() / blocks.maskable.sum().item()
    assert 0.08 < share < 0.2
    assert (out["labels"][predicted] == blocks.input_ids[predicted]).all()
    # Whole words: a continuation piece is predicted exactly when its word's first piece is.
    for b in range(len(blocks)):
        for i in range(1, blocks.input_ids.shape[1]):
            if blocks.maskable[b, i] and not blocks.word_starts[b, i] and blocks.maskable[b, i - 1]:
                assert predicted[b, i] == predicted[b, i - 1]
    # About 80% of the predicted tokens are replaced by the mask token.
    n_mask = (out["input_ids"][predicted] == tokenizer.mask_token_id).sum().item()
    assert 0.6 < n_mask / predicted.sum().item() < 0.95
    # Dynamic: a second draw masks differently; the same seed masks the same.
    again = masker(blocks.input_ids, blocks.word_starts, blocks.maskable, gen)
    assert not torch.equal(again["labels"], out["labels"])
    same = masker(blocks.input_ids, blocks.word_starts, blocks.maskable, torch.Generator().manual_seed(0))
    assert torch.equal(same["labels"], out["labels"])
    with pytest.raises(BioBertError, match=r"\[E505\]"):
        WholeWordMasker(tokenizer.mask_token_id, len(tokenizer), 1.5)
