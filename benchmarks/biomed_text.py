"""Biomedical text handling benchmarks: tokenisation, abbreviations, normalisation.

Commands (each adds its section to the JSON file and prints a table; `report` prints them all):

    python benchmarks/biomed_text.py tokenization      # mention edges inside tokens, per tokenizer
    python benchmarks/biomed_text.py normalization     # accuracy@1 of biobert_entity_normalizer
    python benchmarks/biomed_text.py prepare           # DocBins for the NER comparison
    python benchmarks/biomed_text.py ner               # CNN NER devel F1 per tokenizer (slow)
    python benchmarks/biomed_text.py cid MODEL_DIR     # end-to-end concept-level CID on devel
    python benchmarks/biomed_text.py report

Corpora come from ../shared/corpora (or $SPACY_BIOBERT_CORPORA); only train and devel splits are used.
Run CPU-heavy commands with `OMP_NUM_THREADS=1 nice -n 10`.
"""
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import spacy
import typer
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.training import Example
from wasabi import msg

import spacy_biobert  # noqa: F401  (registers the components)
from spacy_biobert.biomed import abbreviation_pairs, canonical_id
from spacy_biobert.biomed.abbreviations import long_forms
from spacy_biobert.corpora.ncbi import read_ncbi_disease
from spacy_biobert.corpora.pubtator import parse_pubtator, read_pubtator

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("SPACY_BIOBERT_CORPORA", ROOT.parent / "shared" / "corpora"))
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "biomed_text.json"
DEFAULT_WORK = ROOT / "training" / "biomed_text"  # git-ignored
NER_CONFIG = ROOT / "project" / "configs" / "biomed_tokenizer_ner.cfg"

CORPUS_FILES = {
    "bc5cdr": ("bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt",
               "bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt"),
    "ncbi_disease": ("ncbi_disease/original/NCBItrainset_corpus.txt",
                     "ncbi_disease/original/NCBIdevelopset_corpus.txt"),
}
TOKENIZERS = {
    "spacy": "spacy.Tokenizer.v1",
    "scispacy": "spacy-biobert.SciSpacyTokenizer.v1",
    "biobert": "spacy-biobert.BioTokenizer.v1",
}

app = typer.Typer(add_completion=False, help=__doc__)


# -- helpers -----------------------------------------------------------------------------------


def corpus_path(corpus: str, split: str) -> Path:
    path = CORPORA / CORPUS_FILES[corpus][0 if split == "train" else 1]
    if not path.exists():
        msg.fail(f"Corpus file not found: {path} (set SPACY_BIOBERT_CORPORA)", exits=1)
    return path


def blank(tokenizer: str) -> Language:
    return spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZERS[tokenizer]}}})


def read_docs(corpus: str, split: str, nlp: Language) -> List[Doc]:
    path = corpus_path(corpus, split)
    reader = read_pubtator if corpus == "bc5cdr" else read_ncbi_disease
    return list(reader(path, nlp))


def update_json(path: Path, section: str, data: Dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(path.read_text()) if path.exists() else {}
    results[section] = data
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def prf(tp: int, fp: int, fn: int) -> Dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "fp": fp, "fn": fn}


def id_parts(kb_id: str) -> List[str]:
    return [p for p in canonical_id(kb_id).split("|") if p and p != "-1"]


# -- tokenisation ------------------------------------------------------------------------------


@app.command()
def tokenization(out: Path = typer.Option(DEFAULT_JSON, help="JSON results file")) -> None:
    """Share of gold mention edges that fall inside a token, per tokenizer (train and devel)."""
    results: Dict = {}
    rows = []
    for corpus in CORPUS_FILES:
        for split in ("train", "dev"):
            records = [r for r in parse_pubtator(corpus_path(corpus, split)) if r.error is None]
            for tok_name in TOKENIZERS:
                nlp = blank(tok_name)
                n_edges = bad_edges = n_mentions = bad_mentions = n_tokens = 0
                for rec in records:
                    doc = nlp.make_doc(rec.text)
                    n_tokens += len(doc)
                    bounds = {t.idx for t in doc} | {t.idx + len(t) for t in doc}
                    for m in rec.mentions:
                        bad = (m.start not in bounds) + (m.end not in bounds)
                        n_edges += 2
                        bad_edges += bad
                        n_mentions += 1
                        bad_mentions += bad > 0
                res = {
                    "mentions": n_mentions, "tokens": n_tokens,
                    "edge_mismatch_rate": bad_edges / n_edges,
                    "mention_mismatch_rate": bad_mentions / n_mentions,
                }
                results[f"{corpus}/{split}/{tok_name}"] = res
                rows.append((corpus, split, tok_name, n_tokens, n_mentions,
                             f"{100 * res['edge_mismatch_rate']:.2f}%",
                             f"{100 * res['mention_mismatch_rate']:.2f}%"))
    msg.table(rows, header=("corpus", "split", "tokenizer", "tokens", "mentions",
                            "edges in token", "mentions affected"), divider=True)
    update_json(out, "tokenization", results)


# -- normalisation -----------------------------------------------------------------------------


def _normalizer(nlp: Language, train: List[Doc], **cfg):
    norm = nlp.add_pipe("biobert_entity_normalizer", name=f"norm{len(nlp.pipe_names)}", config=cfg)
    norm.initialize(lambda: [Example(d, d) for d in train])
    return norm


def _gold(doc: Doc) -> List[Span]:
    return [s for s in doc.spans["sc"] if s.kb_id_]


def evaluate_normalizer(norm, docs: List[Doc], *, methods: Sequence[str], propagate: bool,
                        seen: Optional[set] = None) -> Dict:
    """accuracy@1 over gold mentions that have a concept ID, plus concept-level scores."""
    from spacy_biobert.biomed import AbbreviationPropagator

    propagator = AbbreviationPropagator(spans_key="pred", overwrite_ids=True)
    n = correct = unpredicted = 0
    by_method: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    by_seen: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    by_label: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    ctp = cfp = cfn = 0
    cid_gold = cid_reach = 0
    for doc in docs:
        lfs = long_forms(doc)
        gold = _gold(doc)
        preds: Dict[Tuple[int, int, str], Tuple[str, str]] = {}
        for span in gold:
            lf = lfs.get((span.start, span.end))
            found = norm.normalize_mention(span.text, span.label_, lf.text if lf is not None else None,
                                           methods=methods)
            preds[(span.start, span.end, span.label_)] = (found[0], found[1]) if found else ("", "none")
        if propagate:
            pred_doc = doc.copy()
            pred_doc.ents = []
            pred_doc.spans["pred"] = SpanGroup(pred_doc, name="pred", spans=[
                Span(pred_doc, s, e, label=lab, kb_id=cid) for (s, e, lab), (cid, _) in preds.items()
            ])
            propagator(pred_doc)
            for s in pred_doc.spans["pred"]:
                key = (s.start, s.end, s.label_)
                if key in preds and s.kb_id_ != preds[key][0]:
                    preds[key] = (s.kb_id_, "propagated")
        pred_concepts, gold_concepts = set(), set()
        for span in gold:
            cid, method = preds[(span.start, span.end, span.label_)]
            ok = bool(cid) and canonical_id(cid) == canonical_id(span.kb_id_)
            n += 1
            correct += ok
            unpredicted += not cid
            for table, key in ((by_method, method), (by_label, span.label_),
                               (by_seen, "seen" if seen is not None and span.text.strip().casefold() in seen else "unseen")):
                table[key][0] += 1
                table[key][1] += ok
            pred_concepts.update(id_parts(cid))
            gold_concepts.update(id_parts(span.kb_id_))
        ctp += len(pred_concepts & gold_concepts)
        cfp += len(pred_concepts - gold_concepts)
        cfn += len(gold_concepts - pred_concepts)
        for rel in doc._.relations:
            if rel.level == "concept":
                cid_gold += 1
                cid_reach += rel.head_id in pred_concepts and rel.tail_id in pred_concepts
    return {
        "mentions": n, "accuracy": correct / n if n else 0.0, "unpredicted": unpredicted,
        "by_method": {k: {"n": v[0], "accuracy": v[1] / v[0]} for k, v in sorted(by_method.items())},
        "by_label": {k: {"n": v[0], "accuracy": v[1] / v[0]} for k, v in sorted(by_label.items())},
        "by_seen": {k: {"n": v[0], "accuracy": v[1] / v[0]} for k, v in sorted(by_seen.items())},
        "concepts": prf(ctp, cfp, cfn),
        "cid_pairs": cid_gold,
        "cid_reachable": cid_reach / cid_gold if cid_gold else None,
    }


@app.command()
def normalization(out: Path = typer.Option(DEFAULT_JSON, help="JSON results file"),
                  tune_docs: int = typer.Option(100, help="Last N train docs held out to tune the fuzzy threshold"),
                  ) -> None:
    """accuracy@1 of biobert_entity_normalizer on devel gold mentions (dictionary from train):
    ablations of the lookup methods, abbreviation expansion and propagation; fuzzy threshold tuned
    on held-out training documents, never on devel."""
    results: Dict = {}
    rows = []
    for corpus in CORPUS_FILES:
        start = time.time()
        nlp = blank("scispacy")
        detector = nlp.add_pipe("biobert_abbreviation_detector")
        train = read_docs(corpus, "train", nlp)
        dev = read_docs(corpus, "dev", nlp)
        for doc in train + dev:
            detector(doc)
        # NCBI-disease's classes (SpecificDisease, Modifier, ...) are roles, not types: one ID
        # space for all of them, so labels must not split the dictionary there.
        match_labels = corpus == "bc5cdr"
        # Tune the fuzzy threshold on held-out training documents.
        fit, held = train[:-tune_docs], train[-tune_docs:]
        tuning, tuning_concept_f = {}, {}
        for thr in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            norm = _normalizer(nlp, fit, fuzzy_threshold=thr, match_labels=match_labels)
            res = evaluate_normalizer(norm, held, methods=("exact", "normalised", "fuzzy"), propagate=True)
            tuning[thr] = res["accuracy"]
            tuning_concept_f[thr] = res["concepts"]["f"]
        # accuracy@1 (the reported measure) decides; ties go to the stricter threshold.
        best_thr = max(tuning, key=lambda t: (round(tuning[t], 4), t))
        seen = set()
        for doc in train:
            seen.update(s.text.strip().casefold() for s in _gold(doc))
        all_methods = ("exact", "normalised", "fuzzy")
        # (methods, abbreviation expansion, propagation, fuzzy threshold: None = tuned)
        variants = {
            "exact": (("exact",), False, False, None),
            "exact+normalised": (("exact", "normalised"), False, False, None),
            "exact+normalised+fuzzy": (all_methods, False, False, None),
            "+abbreviation expansion": (all_methods, True, False, None),
            "+abbreviation propagation": (all_methods, True, True, None),
            "propagation without expansion": (all_methods, False, True, None),
            "factory defaults (fuzzy 0.7, expansion, propagation)": (all_methods, True, True, 0.7),
        }
        res_corpus = {"fuzzy_threshold_tuning": {str(k): v for k, v in tuning.items()},
                      "fuzzy_threshold_tuning_concept_f": {str(k): v for k, v in tuning_concept_f.items()},
                      "fuzzy_threshold": best_thr, "match_labels": match_labels, "variants": {}}
        for name, (methods, expand, propagate, thr) in variants.items():
            norm = _normalizer(nlp, train, fuzzy_threshold=thr or best_thr, use_abbreviations=expand,
                               match_labels=match_labels)
            res = evaluate_normalizer(norm, dev, methods=methods, propagate=propagate, seen=seen)
            res_corpus["variants"][name] = res
            rows.append((corpus, name, res["mentions"], f"{100 * res['accuracy']:.2f}",
                         f"{100 * res['by_seen'].get('seen', {}).get('accuracy', 0):.2f}",
                         f"{100 * res['by_seen'].get('unseen', {}).get('accuracy', 0):.2f}",
                         f"{100 * res['concepts']['f']:.2f}",
                         f"{100 * res['cid_reachable']:.2f}" if res["cid_reachable"] is not None else "-"))
        res_corpus["abbreviation_pairs_dev"] = sum(len(abbreviation_pairs(d)) for d in dev)
        res_corpus["seconds"] = time.time() - start
        results[corpus] = res_corpus
        msg.info(f"{corpus}: fuzzy threshold {best_thr} (held-out train accuracy {tuning})")
    msg.table(rows, header=("corpus", "variant", "mentions", "acc@1", "seen", "unseen",
                            "concept F1", "CID pairs reachable"), divider=True)
    update_json(out, "normalization", results)


# -- NER with each tokenizer -------------------------------------------------------------------


@app.command()
def prepare(work: Path = typer.Option(DEFAULT_WORK, help="Folder for DocBins and models")) -> None:
    """DocBins of train/devel per corpus and tokenizer. NCBI-disease's four classes are merged
    into one `Disease` label (the usual NER task)."""
    for corpus in CORPUS_FILES:
        for tok_name in TOKENIZERS:
            nlp = blank(tok_name)
            for split in ("train", "dev"):
                db = DocBin(store_user_data=False)
                for doc in read_docs(corpus, split, nlp):
                    if corpus == "ncbi_disease":
                        doc.ents = [Span(doc, e.start, e.end, label="Disease", kb_id=e.kb_id_)
                                    for e in doc.ents]
                    doc.spans.clear()
                    db.add(doc)
                path = work / corpus / tok_name / f"{split}.spacy"
                path.parent.mkdir(parents=True, exist_ok=True)
                db.to_disk(path)
                msg.good(f"{path}: {len(db)} docs")


@app.command()
def ner(work: Path = typer.Option(DEFAULT_WORK, help="Folder with DocBins from `prepare`"),
        out: Path = typer.Option(DEFAULT_JSON, help="JSON results file"),
        max_steps: int = typer.Option(1500, help="Training steps per run"),
        corpora: str = typer.Option("bc5cdr,ncbi_disease"),
        tokenizers: str = typer.Option("spacy,scispacy,biobert"),
        seed: int = typer.Option(0, help="Training seed ([system.seed])")) -> None:
    """Train the same CNN NER with each tokenizer (bounded steps) and score devel: entity F1 at
    exact character offsets, with and without abbreviation propagation at prediction time."""
    results = json.loads(out.read_text()).get("ner", {}) if out.exists() else {}
    for corpus in corpora.split(","):
        for tok_name in tokenizers.split(","):
            data = work / corpus / tok_name
            run = tok_name + (f"-seed{seed}" if seed else "")
            model_dir = work / "models" / corpus / run
            cmd = [sys.executable, "-m", "spacy", "train", str(NER_CONFIG), "--output", str(model_dir),
                   "--paths.train", str(data / "train.spacy"), "--paths.dev", str(data / "dev.spacy"),
                   "--nlp.tokenizer", json.dumps({"@tokenizers": TOKENIZERS[tok_name]}),
                   "--training.max_steps", str(max_steps), "--system.seed", str(seed)]
            msg.info(" ".join(cmd))
            start = time.time()
            log = model_dir.parent / f"{run}.train.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("w") as fh:
                subprocess.run(cmd, check=True, stdout=fh, stderr=subprocess.STDOUT,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
            train_seconds = time.time() - start
            nlp = spacy.load(model_dir / "model-best")
            dev = list(DocBin().from_disk(data / "dev.spacy").get_docs(nlp.vocab))
            examples = [Example(nlp.make_doc(d.text), d) for d in dev]
            plain = nlp.evaluate(examples)
            nlp.add_pipe("biobert_abbreviation_detector")
            nlp.add_pipe("biobert_abbreviation_propagator", config={"spans_key": None})
            propagated = nlp.evaluate([Example(nlp.make_doc(d.text), d) for d in dev])
            results[f"{corpus}/{run}"] = {
                "max_steps": max_steps, "seed": seed, "train_seconds": train_seconds,
                "ents_p": plain["ents_p"], "ents_r": plain["ents_r"], "ents_f": plain["ents_f"],
                "ents_per_type": plain["ents_per_type"],
                "with_propagation": {k: propagated[k] for k in ("ents_p", "ents_r", "ents_f")},
                "with_propagation_per_type": propagated["ents_per_type"],
            }
            msg.good(f"{corpus}/{run}: F1 {100 * plain['ents_f']:.2f}, with propagation "
                     f"{100 * propagated['ents_f']:.2f} ({train_seconds:.0f}s)")
            update_json(out, "ner", results)


# -- end-to-end concept-level CID --------------------------------------------------------------


@app.command()
def cid(model: Path = typer.Argument(..., help="Trained BC5CDR pipeline (ner + biobert_relation_extractor)"),
        out: Path = typer.Option(DEFAULT_JSON, help="JSON results file"),
        limit: int = typer.Option(0, help="Devel documents (0: all)")) -> None:
    """Concept-level CID on BC5CDR devel (the official document-level measure: (chemical ID,
    disease ID) pairs per document, micro P/R/F1), end to end from raw text, with the relation
    extractor's own training lexicon for IDs ("lexicon") and with our normaliser and abbreviation
    propagation setting the IDs first ("normaliser"). The encoder and NER run once per document."""
    from spacy_biobert.relations import concept_relations

    nlp = spacy.load(model)
    rel_name = next(n for n, p in nlp.pipeline if type(p).__name__ == "RelationExtractor")
    rel_pipe = nlp.get_pipe(rel_name)
    reader_nlp = blank("spacy")
    train = read_docs("bc5cdr", "train", reader_nlp)
    dev = read_docs("bc5cdr", "dev", reader_nlp)
    if limit:
        dev = dev[:limit]
    # Our components, in the order the default configs should use them; two fuzzy thresholds
    # (accuracy@1 vs concept-level precision, see `normalization`) and propagation on/off.
    ours = spacy.blank("en")
    detector = ours.add_pipe("biobert_abbreviation_detector")
    propagator = ours.add_pipe("biobert_abbreviation_propagator", config={"spans_key": None})
    norms = {}
    for thr in (0.5, 0.7):
        norms[thr] = ours.add_pipe("biobert_entity_normalizer", name=f"norm{thr}",
                                   config={"overwrite": True, "fuzzy_threshold": thr})
        norms[thr].initialize(lambda: [Example(d, d) for d in train])
    variants = {
        "lexicon": None,
        "normaliser 0.5 + propagation": (0.5, True),
        "normaliser 0.7 + propagation": (0.7, True),
        "normaliser 0.7": (0.7, False),
    }
    counts = {v: Counter() for v in variants}
    start = time.time()
    with nlp.select_pipes(disable=[rel_name]):
        predicted = nlp.pipe(d.text for d in dev)
        for gold, doc in zip(dev, predicted):
            g = {(r.head_id, r.tail_id) for r in concept_relations(gold._.relations) if r.label == "CID"}
            gold_concepts = {c for s in _gold(gold) for c in id_parts(s.kb_id_)}
            ner_ents = list(doc.ents)
            detector(doc)
            for variant, setting in variants.items():
                doc.set_ents([Span(doc, e.start, e.end, label=e.label, kb_id=e.kb_id) for e in ner_ents])
                if setting is not None:
                    doc = norms[setting[0]](doc)
                    if setting[1]:
                        doc = propagator(doc)
                doc = rel_pipe(doc)
                p = set()
                for r in concept_relations(doc._.relations):
                    if r.label == "CID":
                        p.update((h, t) for h in id_parts(r.head_id) for t in id_parts(r.tail_id))
                c = counts[variant]
                c["tp"] += len(p & g)
                c["fp"] += len(p - g)
                c["fn"] += len(g - p)
                ids = {cid for e in doc.ents for cid in id_parts(e.kb_id_ or "|".join(rel_pipe.concept_ids(e)))}
                c["ctp"] += len(ids & gold_concepts)
                c["cfp"] += len(ids - gold_concepts)
                c["cfn"] += len(gold_concepts - ids)
    res = {"model": str(model), "docs": len(dev), "seconds": time.time() - start}
    rows = []
    for variant, c in counts.items():
        res[variant] = {"cid": prf(c["tp"], c["fp"], c["fn"]), "concepts": prf(c["ctp"], c["cfp"], c["cfn"])}
        rows.append((variant, f"{100 * res[variant]['cid']['p']:.2f}", f"{100 * res[variant]['cid']['r']:.2f}",
                     f"{100 * res[variant]['cid']['f']:.2f}", f"{100 * res[variant]['concepts']['f']:.2f}"))
    msg.table(rows, header=("IDs from", "CID P", "CID R", "CID F1", "concept F1"), divider=True)
    update_json(out, "cid", res)


@app.command()
def report(out: Path = typer.Option(DEFAULT_JSON, help="JSON results file")) -> None:
    """Print every section of the results file."""
    print(json.dumps(json.loads(out.read_text()), indent=2, sort_keys=True))


if __name__ == "__main__":
    app()
