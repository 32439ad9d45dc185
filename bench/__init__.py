"""The benchmark harness: `python -m bench` (or `bench/run`). See bench/README.md."""
