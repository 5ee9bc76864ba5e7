"""Modules of ``benchmarks/run.py``, the end-to-end benchmark (see ``benchmarks/README.md``)."""
