"""Evidence an NGO can publish and others can check: `auditor export` and `auditor verify`.

`records` cuts the exact log records behind findings out of a bundle and puts them back into a
sparse bundle; `archive` writes and reads the evidence zip; `compare` diffs two reports point by
point; `verify` runs the checks. None of them prints: the command line renders their results.
"""
