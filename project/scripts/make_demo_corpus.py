"""Write the project's small sample corpus (PubTator: chemicals, diseases, CID relations).

The abstracts are invented, written from sentence templates and vocabulary lists below, so the demo can
ship and train on data with no licence attached. Concept IDs are MeSH-shaped but invented ("D9" + five
digits), so nobody mistakes them for real MeSH identifiers. The output is deterministic for a seed and is
committed; rerun this only to change the sample:

    python project/scripts/make_demo_corpus.py project/assets/demo
"""
import random
import sys
from pathlib import Path
from typing import Dict, List, Tuple

# Chemicals and diseases seen in training; a few more are kept for dev only so the devel score says
# something about names the pipeline has not seen.
CHEMICALS = [
    "cisplatin", "lithium", "haloperidol", "amiodarone", "doxorubicin", "gentamicin", "methotrexate",
    "valproic acid", "isoniazid", "cyclophosphamide", "vancomycin", "tacrolimus", "phenytoin",
    "carbamazepine", "propylthiouracil", "bleomycin", "metformin", "rifampicin", "ketamine",
    "5-fluorouracil", "streptozotocin", "puromycin aminonucleoside", "clozapine", "ciprofloxacin",
]
CHEMICALS_DEV = ["cocaine", "tamoxifen", "lamivudine", "ifosfamide"]
DISEASES = [
    "nephrotoxicity", "hepatotoxicity", "cardiotoxicity", "acute renal failure", "seizures",
    "hypotension", "bradycardia", "agranulocytosis", "pulmonary fibrosis", "lactic acidosis",
    "peripheral neuropathy", "tardive dyskinesia", "hemorrhagic cystitis", "ototoxicity",
    "thrombocytopenia", "liver injury", "diabetes", "nephrotic syndrome", "ventricular arrhythmia",
    "myocardial infarction", "proteinuria", "hypothyroidism", "tendinopathy", "delirium",
]
DISEASES_DEV = ["stroke", "endometrial cancer", "pancreatitis", "encephalopathy"]
# Neutral nouns for animal models and outcomes (never annotated).
SUBJECTS = ["rats", "mice", "patients", "adult patients", "children", "elderly patients", "rabbits"]
DOSES = ["5 mg/kg", "10 mg/kg", "20 mg/kg", "50 mg/kg", "2 mg/day", "100 mg/day", "a single dose"]
MARKERS = ["serum creatinine", "blood urea nitrogen", "alanine aminotransferase", "heart rate",
           "blood pressure", "body weight", "glutathione levels", "malondialdehyde"]

# Sentence templates. {c}/{c2}: chemical, {d}/{d2}: disease. The CID flag says whether the sentence
# states that {c} induces {d}; negated, treatment and co-occurrence sentences teach the relation model
# that co-occurrence alone is not a CID.
TITLES: List[Tuple[str, bool]] = [
    ("{C}-induced {d} in {s}.", True),
    ("{D} associated with {c} therapy: a case report.", True),
    ("Protective effect of {c} against {d} in {s}.", False),
    ("{C} treatment of {d}: a randomized trial.", False),
    ("Mechanisms of {c} toxicity: {d} in {s}.", True),
    ("Risk of {d} after long-term {c} use.", True),
]
CID_SENTENCES = [
    "{C} induced {d} in {s} at {dose}.",
    "Administration of {c} ({dose}) caused {d} within two weeks.",
    "We report a case of {d} after treatment with {c}.",
    "{D} developed in 12 of 40 {s} receiving {c}.",
    "The incidence of {c}-induced {d} was dose dependent.",
    "{C}-associated {d} resolved after withdrawal of the drug.",
    "Exposure to {c} led to {d} and increased {m}.",
]
NEG_SENTENCES = [
    "{C} did not cause {d} in {s}.",
    "No cases of {d} were observed with {c}.",
    "{C} is widely used to treat {d}.",
    "{C} reduced the severity of {d} in {s}.",
    "{S} with {d} were given {c} ({dose}) as standard care.",
    "{C} protected {s} against {d}.",
]
FILLER = [
    "{M} was measured at baseline and after 7 days.",
    "Histological examination was performed in all {s}.",
    "These findings suggest that monitoring of {m} is warranted.",
    "The study included {n} {s}.",
    "Statistical analysis used a two-sided t test.",
    "Further studies are needed to confirm these results.",
]


class _Doc:
    """An abstract being written: text plus character-offset mentions."""

    def __init__(self) -> None:
        self.parts: List[str] = []
        self.length = 0
        self.mentions: List[Tuple[int, int, str, str, str]] = []

    def add(self, template: str, slots: Dict[str, Tuple[str, str, str]], plain: Dict[str, str]) -> None:
        """Append a sentence, recording the offsets of the annotated slots it fills."""
        if self.parts:
            self._emit(" ")
        i = 0
        while i < len(template):
            if template[i] == "{":
                j = template.index("}", i)
                key = template[i + 1:j]
                if key.lower() in slots:
                    text, label, cid = slots[key.lower()]
                    if key[0].isupper():
                        text = text[0].upper() + text[1:]
                    start = self.length
                    self._emit(text)
                    self.mentions.append((start, self.length, text, label, cid))
                else:
                    value = plain[key.lower()]
                    self._emit(value[0].upper() + value[1:] if key[0].isupper() else value)
                i = j + 1
            else:
                self._emit(template[i])
                i += 1

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _ids(names: List[str], offset: int) -> Dict[str, str]:
    return {name: f"D9{offset + i:05d}" for i, name in enumerate(names)}


def _two(rng: random.Random, names: List[str]) -> Tuple[str, str]:
    """Two different names (the dev lists repeat names to weight them)."""
    first = rng.choice(names)
    second = rng.choice([n for n in names if n != first])
    return first, second


def make_doc(rng: random.Random, pmid: int, chems: List[str], diss: List[str],
             ids: Dict[str, str]) -> str:
    """One PubTator document: title, abstract, mentions and CID relations."""
    c1, c2 = _two(rng, chems)
    d1, d2 = _two(rng, diss)
    plain = {"s": rng.choice(SUBJECTS), "dose": rng.choice(DOSES), "m": rng.choice(MARKERS),
             "n": str(rng.randint(12, 240))}
    cid = set()
    title_t, title_cid = rng.choice(TITLES)
    title = _Doc()
    title.add(title_t, {"c": (c1, "Chemical", ids[c1]), "d": (d1, "Disease", ids[d1])}, plain)
    if title_cid:
        cid.add((ids[c1], ids[d1]))
    body = _Doc()
    body_offset = title.length + 1
    sentences: List[Tuple[str, Dict[str, Tuple[str, str, str]], bool]] = []
    # The title's pair again, as the abstract would restate it, then a second pair that is either a
    # CID or a negative, and some filler.
    restate = rng.choice(CID_SENTENCES if title_cid else NEG_SENTENCES)
    sentences.append((restate, {"c": (c1, "Chemical", ids[c1]), "d": (d1, "Disease", ids[d1])}, title_cid))
    second_cid = rng.random() < 0.5
    second = rng.choice(CID_SENTENCES if second_cid else NEG_SENTENCES)
    sentences.append((second, {"c": (c2, "Chemical", ids[c2]), "d": (d2, "Disease", ids[d2])}, second_cid))
    for _ in range(rng.randint(1, 3)):
        sentences.append((rng.choice(FILLER), {}, False))
    first, rest = sentences[0], sentences[1:]
    rng.shuffle(rest)
    for template, slots, is_cid in [first, *rest]:
        plain = {**plain, "s": rng.choice(SUBJECTS), "dose": rng.choice(DOSES), "m": rng.choice(MARKERS)}
        body.add(template, slots, plain)
        if is_cid:
            c, d = slots["c"][2], slots["d"][2]
            cid.add((c, d))
    lines = [f"{pmid}|t|{title.text}", f"{pmid}|a|{body.text}"]
    for start, end, text, label, concept in title.mentions:
        lines.append(f"{pmid}\t{start}\t{end}\t{text}\t{label}\t{concept}")
    for start, end, text, label, concept in body.mentions:
        lines.append(f"{pmid}\t{start + body_offset}\t{end + body_offset}\t{text}\t{label}\t{concept}")
    # A pair stated both ways (CID in one sentence, negated in another) is a CID for the document,
    # as in BC5CDR, whose relations are document-level.
    for c, d in sorted(cid):
        lines.append(f"{pmid}\tCID\t{c}\t{d}")
    return "\n".join(lines) + "\n"


def main(out_dir: str, n_train: int = 80, n_dev: int = 20, seed: int = 1) -> None:
    rng = random.Random(seed)
    ids = {**_ids(CHEMICALS + CHEMICALS_DEV, 10001), **_ids(DISEASES + DISEASES_DEV, 50001)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train = [make_doc(rng, 90000001 + i, CHEMICALS, DISEASES, ids) for i in range(n_train)]
    # Dev mixes seen names with the dev-only ones.
    dev = [
        make_doc(rng, 90100001 + i, CHEMICALS + CHEMICALS_DEV * 3, DISEASES + DISEASES_DEV * 3, ids)
        for i in range(n_dev)
    ]
    (out / "train.pubtator.txt").write_text("\n".join(train), encoding="utf8")
    (out / "dev.pubtator.txt").write_text("\n".join(dev), encoding="utf8")
    print(f"Wrote {n_train} train and {n_dev} dev abstracts to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).parent.parent / "assets" / "demo"))
