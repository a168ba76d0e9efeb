"""Pre-training a tiny BERT: the loss falls, resuming is exact, the output loads in spaCy, and bad
inputs give coded errors."""
import shutil

import pytest
import spacy
import srsly
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.errors import BioBertError
from spacy_biobert.pretrain import PretrainSettings, pretrain
from spacy_biobert.pretrain.checkpoints import checkpoint_path, latest_checkpoint
from spacy_biobert.testing import make_tiny_bert

SENTENCES = [
    "Cisplatin induced nephrotoxicity in rats.",
    "Naloxone reverses the effect of clonidine.",
    "Lithium caused renal failure in patients.",
    "Aspirin decreased the risk of acute heart failure.",
    "Haloperidol induced seizures in mice.",
]


@pytest.fixture
def corpus(tmp_path):
    """40 distinct short documents from the same few sentences: repeated text, easily learnt."""
    docs = []
    for i in range(40):
        order = SENTENCES[i % 5:] + SENTENCES[: i % 5]
        docs.append(" ".join(order[: 3 + i % 3]) + f" Dose {i}.")
    path = tmp_path / "corpus.txt"
    path.write_text("\n\n".join(docs), encoding="utf8")
    return path


def _settings(model, **overrides):
    base = dict(model=model, max_steps=4, max_length=32, batch_size=4, learning_rate=1e-3,
                checkpoint_every=2, eval_fraction=0.1, seed=3)
    return PretrainSettings(**{**base, **overrides})


def test_repeated_text_lowers_the_loss(tiny_bert, corpus, tmp_path):
    result = pretrain([corpus], tmp_path / "out", _settings(tiny_bert, max_steps=40, checkpoint_every=20),
                      progress=False)
    losses = [result.losses[s] for s in range(1, 41)]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.5
    evals = result.evaluations
    assert [e["step"] for e in evals] == [0, 20, 40]
    assert evals[-1]["perplexity"] < evals[0]["perplexity"] * 0.7
    report = srsly.read_json(tmp_path / "out" / "pretraining.json")
    assert [e["perplexity"] for e in report["evaluations"]] == pytest.approx([e["perplexity"] for e in evals])
    assert report["new_head_tensors"]  # the tiny BERT ships no MLM head: it was initialised
    # Only the newest checkpoints are kept (2 by default).
    assert latest_checkpoint(tmp_path / "out") == checkpoint_path(tmp_path / "out", 40)


def test_resume_gives_the_same_next_steps(tiny_bert, corpus, tmp_path):
    settings = _settings(tiny_bert, max_steps=4, checkpoint_every=2, eval_before=False)
    full = pretrain([corpus], tmp_path / "full", settings, progress=False)
    # An interrupted run: it stopped after the checkpoint at step 2 (step 4's never got written).
    interrupted = tmp_path / "interrupted"
    shutil.copytree(tmp_path / "full", interrupted)
    shutil.rmtree(checkpoint_path(interrupted, 4))
    resumed = pretrain([corpus], interrupted, settings, progress=False)
    assert resumed.resumed_from == 2
    assert [resumed.losses[s] for s in (3, 4)] == [full.losses[s] for s in (3, 4)]
    assert full.losses[3] != full.losses[2]
    weights_full = load_file(str(tmp_path / "full" / "model.safetensors"))
    weights_resumed = load_file(str(interrupted / "model.safetensors"))
    assert all(torch.equal(weights_full[k], weights_resumed[k]) for k in weights_full)
    # Changed settings cannot silently continue another run's optimisation.
    with pytest.raises(BioBertError, match=r"\[E506\].*learning_rate"):
        pretrain([corpus], interrupted, _settings(tiny_bert, learning_rate=5e-4), progress=False)
    # --no-resume starts over.
    fresh = pretrain([corpus], interrupted, _settings(tiny_bert, learning_rate=5e-4, max_steps=2),
                     resume=False, progress=False)
    assert fresh.resumed_from is None and sorted(fresh.losses) == [1, 2]


def test_output_loads_in_the_transformer_component(tiny_bert, corpus, tmp_path):
    out = tmp_path / "adapted"
    pretrain([corpus], out, _settings(tiny_bert, max_steps=2), progress=False)
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy-biobert.BioBertTransformer.v1", "name": str(out),
    }})
    nlp.initialize()
    doc = nlp("Cisplatin induced nephrotoxicity in rats.")
    assert doc._.trf_data.tensors[0].shape[-1] == 32
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    assert tokenizer.do_lower_case is False  # the cased vocabulary stayed cased
    assert "Cisplatin" in doc._.trf_data.wordpieces.strings[0]
    # The adapted encoder weights are what the component runs, not the base model's.
    encoder = nlp.get_pipe("transformer").model.transformer
    adapted = load_file(str(out / "model.safetensors"))
    key = "bert.embeddings.word_embeddings.weight"
    assert torch.equal(encoder.embeddings.word_embeddings.weight.detach().cpu(), adapted[key])


def test_duplicates_and_held_aside_documents_are_not_trained_on(tiny_bert, corpus, tmp_path):
    docs = corpus.read_text(encoding="utf8").split("\n\n")
    train = tmp_path / "train.txt"
    train.write_text("\n\n".join(docs + docs[:10]), encoding="utf8")  # 10 duplicates
    held = tmp_path / "held.txt"
    held.write_text("\n\n".join(docs[30:]), encoding="utf8")  # 10 also in train
    pretrain([train], tmp_path / "o", _settings(tiny_bert, max_steps=1), eval_inputs=[held], progress=False)
    report = srsly.read_json(tmp_path / "o" / "pretraining.json")["train_text"]
    assert (report["documents_read"], report["documents_trained"]) == (50, 30)
    assert (report["dropped_duplicates"], report["dropped_held_aside"]) == (10, 10)


def test_freeze_encoder_trains_only_the_head(tiny_bert, corpus, tmp_path):
    out = tmp_path / "head"
    pretrain([corpus], out, _settings(tiny_bert, max_steps=2, freeze_encoder=True), progress=False)
    # The tiny BERT is a BertModel checkpoint (keys without the "bert." prefix); its pooler is not
    # part of a masked LM.
    before = load_file(f"{tiny_bert}/model.safetensors")
    after = load_file(str(out / "model.safetensors"))
    for key, value in before.items():
        if not key.startswith("pooler"):
            assert torch.equal(after["bert." + key], value), key
    assert "cls.predictions.transform.dense.weight" in after


def test_bad_inputs_give_coded_errors(tiny_bert, corpus, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf8")
    with pytest.raises(BioBertError, match=r"\[E501\].*empty\.txt"):
        pretrain([empty], tmp_path / "o1", _settings(tiny_bert), progress=False)
    # Nothing left once the held-aside documents are taken out of the training text.
    with pytest.raises(BioBertError, match=r"\[E501\].*all held aside"):
        pretrain([corpus], tmp_path / "o1", _settings(tiny_bert), eval_inputs=[corpus], progress=False)
    # A decoder-only architecture has no masked-LM head in transformers.
    from transformers import GPT2Config

    gpt = tmp_path / "gpt2"
    GPT2Config(n_layer=1, n_head=2, n_embd=16).save_pretrained(gpt)
    with pytest.raises(BioBertError, match=r"\[E504\].*'gpt2'"):
        pretrain([corpus], tmp_path / "o2", _settings(str(gpt)), progress=False)
    # A masked-LM architecture whose tokenizer has no mask token.
    no_mask = make_tiny_bert(tmp_path / "no_mask")
    srsly.write_json(no_mask / "tokenizer_config.json", {"mask_token": None})
    with pytest.raises(BioBertError, match=r"\[E504\].*no mask token"):
        pretrain([corpus], tmp_path / "o2", _settings(str(no_mask)), progress=False)
    # An encoder checkpoint missing encoder weights (not just the head) is refused.
    broken = make_tiny_bert(tmp_path / "broken")
    weights = load_file(str(broken / "model.safetensors"))
    del weights["encoder.layer.0.attention.self.query.weight"]
    save_file(weights, str(broken / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(BioBertError, match=r"\[E508\].*query\.weight"):
        pretrain([corpus], tmp_path / "o3", _settings(str(broken)), progress=False)
    with pytest.raises(BioBertError, match=r"\[E505\].*--max-length=1024"):
        pretrain([corpus], tmp_path / "o4", _settings(tiny_bert, max_length=1024), progress=False)
    with pytest.raises(BioBertError, match=r"\[E505\].*--bf16"):
        pretrain([corpus], tmp_path / "o5", _settings(tiny_bert, device="cpu", bf16=True), progress=False)


def test_cli(tiny_bert, corpus, tmp_path):
    runner = CliRunner()
    eval_file = tmp_path / "held.jsonl"
    eval_file.write_text('{"text": "Clonidine caused hypotension in rats."}\n', encoding="utf8")
    out = tmp_path / "cli_out"
    result = runner.invoke(app, [
        "pretrain", str(corpus), str(out), "--model", tiny_bert, "--max-steps", "2", "--max-length", "32",
        "--batch-size", "2", "--eval-input", str(eval_file),
    ])
    assert result.exit_code == 0, result.output
    assert "Held-aside perplexity" in result.output
    assert (out / "config.json").exists() and (out / "model.safetensors").exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf8")
    result = runner.invoke(app, ["pretrain", str(empty), str(tmp_path / "x"), "--model", tiny_bert])
    assert result.exit_code == 1
    assert "[E501]" in result.output
