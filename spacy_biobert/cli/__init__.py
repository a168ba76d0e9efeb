"""The `spacy-biobert` command line. Each subcommand lives in its own module and registers itself on
`app` when imported here."""
from ._app import app

# Subcommand modules (import order is the order in `--help`).
from . import info  # noqa: F401,E402
from . import convert  # noqa: F401,E402
from . import annotate  # noqa: F401,E402
from . import visualize  # noqa: F401,E402
from . import pretrain  # noqa: F401,E402
from . import evaluate  # noqa: F401,E402


def main() -> None:
    """Entry point of the `spacy-biobert` console script."""
    app()


__all__ = ["app", "main"]
