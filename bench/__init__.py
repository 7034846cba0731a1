"""Benchmarks of the MRC platform on its own local stack; run ``python -m bench.run_all``."""
