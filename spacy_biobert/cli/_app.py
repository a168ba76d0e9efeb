import typer

app = typer.Typer(
    name="spacy-biobert",
    help="BioBERT for spaCy: convert corpora, annotate text, pre-train encoders.",
    no_args_is_help=True,
    add_completion=False,
)
