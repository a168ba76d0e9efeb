"""matplotlib for the benchmarks' PNGs: headless, and optional (a message instead of a plot when it
is not installed)."""


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None (after a message) without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
