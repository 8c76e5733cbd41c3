"""The index: the Chroma store and its records, the manifest, locking and atomic writes, the index run
and its snapshots, the read model (view), check/repair, term counts, background jobs."""
