"""The trusted judge: pytest over the hidden cases, with its comparisons, speed checks and seeds."""
