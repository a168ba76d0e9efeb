import typer
from wasabi import msg

from ._app import app


@app.command("info")
def info_cli() -> None:
    """Print the package version and every name it registers with spaCy."""
    from ..about import __version__
    from ..registrations import registered_names

    msg.info(f"spacy-biobert {__version__}")
    for group, names in sorted(registered_names().items()):
        msg.text(f"{group}: {', '.join(sorted(names))}")
    raise typer.Exit(0)
