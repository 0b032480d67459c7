"""Repository-level pytest configuration: what collection skips."""

# scripts beside the notebooks (data generators) and the benchmarks are run by hand, not imported by pytest
collect_ignore_glob = ["notebooks/data/*", "benchmarks/*", "build/*"]
