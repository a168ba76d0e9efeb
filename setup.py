from setuptools import setup

# All metadata lives in setup.cfg; this file keeps `pip install -e .` working on old pips.
setup()
